"""Fit the learned per-query fusion weight on a golden set's tuning queries (issue 16).

The model is kept only when it beats the best constant dense/BM25 split in 5-fold
cross-validation on the tuning queries; held-back queries are never read here.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.index.vector_store import PayloadFilter
from rag_pipelines.retrieval.aggregate import fuse_legs
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.query_weights import (
    ALPHA_GRID,
    QueryWeights,
    fit_query_weights,
    leg_features,
    ndcg_at,
)

RECORD = "query_weights.json"
DEPTH = 300
MIN_GAIN = 0.001


class QueryWeightRecord(BaseModel):
    """A fitted per-query weight model and the tuning evidence for using it."""

    enabled: bool
    model: str = Field(description="QueryWeights as JSON.")
    tune_queries: int
    scores: dict[str, float] = Field(default_factory=dict)


def alpha_table(
    index: VersionIndex, golden: GoldenSet, source: str | None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Features per query, nDCG@10 per query and α on ALPHA_GRID, and the dense+BM25 budget."""
    flt = PayloadFilter(sources=(source,)) if source else None
    base = {str(k): v for k, v in index.fusion.weights.items()}
    budget = base.get("dense", 1.0) + base.get("bm25", 1.0)
    features: list[list[float]] = []
    rows: list[list[float]] = []
    for query_id, text in golden.queries.items():
        dense = index.dense(index.encode(text), DEPTH, flt)
        bm25 = index.keyword(text, DEPTH, flt)
        graph = index.graph(text, DEPTH, flt, [dense, bm25])
        legs = {n: (leg.ids, leg.scores) for n, leg in (("dense", dense), ("bm25", bm25))}
        legs["graph"] = (graph.ids, graph.scores)
        payloads = {**graph.payloads, **bm25.payloads, **dense.payloads}
        doc_key = {
            c: f"{p.get('source', '')}/{p.get('document_id', '')}" for c, p in payloads.items()
        }
        doc_id = {c: str(p.get("document_id", "")) for c, p in payloads.items()}
        features.append(
            leg_features(legs["dense"], legs["bm25"], doc_key, len(index.tokenize(text)))
        )
        row = []
        for a in ALPHA_GRID:
            weights = {**base, "dense": budget * a, "bm25": budget * (1 - a)}
            fused = fuse_legs(legs, doc_key, weights, index.fusion)
            docs = list(dict.fromkeys(doc_id[f.id] for f in fused if f.id in doc_id))
            row.append(ndcg_at(docs, golden.qrels[query_id]))
        rows.append(row)
    return np.array(features), np.array(rows), budget


def learn_query_weights(
    index: VersionIndex, golden: GoldenSet, source: str | None, folds: int = 5
) -> QueryWeightRecord:
    """Fit on all tuning queries; enabled only if cross-validation beats the best constant α."""
    x, table, budget = alpha_table(index, golden, source)
    picked: list[float] = []
    order = np.arange(len(x))
    for fold in range(folds):
        test = order[fold::folds]
        train = np.setdiff1d(order, test)
        model = fit_query_weights(x[train], table[train], budget=budget)
        for i in test:
            picked.append(float(table[i, round(model.alpha(x[i]) * (len(ALPHA_GRID) - 1))]))
    constant = float(table.mean(axis=0).max())
    cv = float(np.mean(picked)) if picked else 0.0
    model = fit_query_weights(x, table, budget=budget)
    return QueryWeightRecord(
        enabled=cv > constant + MIN_GAIN,
        model=model.to_json(),
        tune_queries=len(x),
        scores={"tune_ndcg@10_constant": round(constant, 4), "tune_ndcg@10_cv": round(cv, 4)},
    )


def load_query_weights(record: QueryWeightRecord | None) -> QueryWeights | None:
    """The model to serve with, if the record enables it."""
    return QueryWeights.from_json(record.model) if record and record.enabled else None

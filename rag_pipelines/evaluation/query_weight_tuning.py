"""Fit the learned per-query fusion weight on a golden set's tuning queries.

The model is kept only when it beats the best constant dense/BM25 split in 5-fold
cross-validation on the tuning queries; held-back queries are never read here.
"""

from __future__ import annotations

import numpy as np

from rag_pipelines.config.legs import HYBRID
from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.index.vector_store import PayloadFilter
from rag_pipelines.retrieval.aggregate import fuse_legs
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.query_weights import (
    ALPHA_GRID,
    QueryWeightRecord,
    fit_query_weights,
    leg_features,
    ndcg_at,
)

DEPTH = 300
MIN_GAIN = 0.001


def alpha_table(
    index: VersionIndex, golden: GoldenSet, source: str | None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Features per query, nDCG@10 per query and α on ALPHA_GRID, and the dense+BM25 budget."""
    flt = PayloadFilter(sources=(source,)) if source else None
    base = {str(k): v for k, v in index.fusion.weights.items()}
    budget = base.get("dense", 1.0) + base.get("bm25", 1.0)
    features: list[list[float]] = []
    rows: list[list[float]] = []
    doc_of = index.lookup.chunk_documents()
    for query_id, text in golden.queries.items():
        results = index.run_legs(text, HYBRID, DEPTH, flt)
        legs = {name: (leg.ids, leg.score_of()) for name, leg in results.items()}
        features.append(
            leg_features(legs["dense"], legs["bm25"], doc_of, len(index.tokenize(text)))
        )
        row = []
        for a in ALPHA_GRID:
            weights = {**base, "dense": budget * a, "bm25": budget * (1 - a)}
            fused = fuse_legs(legs, doc_of, weights, index.fusion)
            docs = list(dict.fromkeys(doc_of[f.id] for f in fused if f.id in doc_of))
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

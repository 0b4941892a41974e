"""Choose fusion weights and k by measurement on the tuning queries (never the held-back ones).

Each leg is run once per query; every candidate setting then only re-fuses those rankings,
so a grid of hundreds of settings costs seconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.evaluation.metrics import evaluate
from rag_pipelines.index.vector_store import PayloadFilter
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.fusion import fuse_rankings

Rankings = dict[str, dict[str, list[str]]]  # query → leg → chunk ids, best first
K_GRID = (10, 30, 60, 100)
WEIGHT_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)


@dataclass(frozen=True)
class FusionChoice:
    """A fusion setting and its score."""

    k: int
    weights: dict[str, float]
    score: float


def leg_rankings(
    index: VersionIndex, golden: GoldenSet, source: str | None, depth: int = 100
) -> tuple[Rankings, dict[str, str]]:
    """Each leg's ranking per query, and chunk id → document id."""
    flt = PayloadFilter(sources=(source,)) if source else None
    rankings: Rankings = {}
    docs: dict[str, str] = {}
    for query_id, text in golden.queries.items():
        dense = index.dense(index.encode(text), depth, flt)
        keyword = index.keyword(text, depth, flt)
        graph = index.graph(text, depth, flt, [dense, keyword])
        rankings[query_id] = {"dense": dense.ids, "bm25": keyword.ids, "graph": graph.ids}
        for leg in (dense, keyword, graph):
            for chunk_id in leg.ids:
                payload = leg.payloads.get(chunk_id)
                if payload is not None:
                    docs[chunk_id] = str(payload["document_id"])
    return rankings, docs


def score_setting(
    rankings: Rankings,
    docs: dict[str, str],
    golden: GoldenSet,
    k: int,
    weights: dict[str, float],
    metric: str = "ndcg@10",
) -> float:
    """The metric of one fusion setting over the queries."""
    run: dict[str, dict[str, float]] = {}
    for query_id, legs in rankings.items():
        fused = fuse_rankings(legs, weights, k, 300)
        seen: dict[str, float] = {}
        for item in fused:
            doc = docs.get(item.id)
            if doc is not None and doc not in seen:
                seen[doc] = float(300 - len(seen))
        run[query_id] = dict(list(seen.items())[:100])
    return evaluate(golden.qrels, run, (metric,))[metric]


def grid(
    weights: Iterable[float] = WEIGHT_GRID, ks: Iterable[int] = K_GRID
) -> list[tuple[int, dict[str, float]]]:
    """Every (k, weights) combination with at least one text leg weighted."""
    out = []
    for k, dense, bm25, graph in itertools.product(ks, weights, weights, weights):
        if dense or bm25:
            out.append((k, {"dense": dense, "bm25": bm25, "graph": graph}))
    return out


def tune(
    rankings: Rankings, docs: dict[str, str], golden: GoldenSet, metric: str = "ndcg@10"
) -> FusionChoice:
    """The best setting on these queries (ties: the earliest in grid order)."""
    best: FusionChoice | None = None
    for k, weights in grid():
        value = score_setting(rankings, docs, golden, k, weights, metric)
        if best is None or value > best.score + 1e-9:
            best = FusionChoice(k, weights, value)
    assert best is not None
    return best

"""Choose fusion weights and k by measurement on the tuning queries (never the held-back ones).

Each leg is run once per query; every candidate setting then only re-fuses those rankings,
so a grid of hundreds of settings costs seconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.evaluation.leg_runs import run_legs
from rag_pipelines.evaluation.metrics import evaluate
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.fusion import RankTable
from rag_pipelines.retrieval.legs.base import registered_legs

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
    runs = run_legs(index, golden, source)
    return runs.rankings(depth), runs.documents


def score_setting(
    rankings: Rankings,
    docs: dict[str, str],
    golden: GoldenSet,
    k: int,
    weights: dict[str, float],
    metric: str = "ndcg@10",
) -> float:
    """The metric of one fusion setting over the queries."""
    return _score(_tables(rankings), docs, golden, k, weights, metric)


def grid(
    weights: Iterable[float] = WEIGHT_GRID, ks: Iterable[int] = K_GRID
) -> list[tuple[int, dict[str, float]]]:
    """Every (k, weights per registered leg) with at least one leg that ranks the text weighted."""
    registered = registered_legs()
    names = list(registered)
    values = list(weights)
    out = []
    for k in ks:
        for combo in itertools.product(values, repeat=len(names)):
            setting = dict(zip(names, combo, strict=True))
            if any(setting[n] for n in names if registered[n].ranks_text):
                out.append((k, setting))
    return out


def tune(
    rankings: Rankings, docs: dict[str, str], golden: GoldenSet, metric: str = "ndcg@10"
) -> FusionChoice:
    """The best setting on these queries (ties: the earliest in grid order)."""
    tables = _tables(rankings)  # the legs as arrays once; each setting is a matrix product
    best: FusionChoice | None = None
    for k, weights in grid():
        value = _score(tables, docs, golden, k, weights, metric)
        if best is None or value > best.score + 1e-9:
            best = FusionChoice(k, weights, value)
    if best is None:
        raise ValueError("the fusion grid is empty")
    return best


def _tables(rankings: Rankings) -> dict[str, RankTable]:
    return {query_id: RankTable(legs) for query_id, legs in rankings.items()}


def _score(
    tables: dict[str, RankTable],
    docs: dict[str, str],
    golden: GoldenSet,
    k: int,
    weights: dict[str, float],
    metric: str,
) -> float:
    run: dict[str, dict[str, float]] = {}
    for query_id, table in tables.items():
        seen: dict[str, float] = {}
        for row in table.order(weights, k, 300).tolist():
            doc = docs.get(table.ids[row])
            if doc is not None and doc not in seen:
                seen[doc] = float(300 - len(seen))
        run[query_id] = dict(list(seen.items())[:100])
    return evaluate(golden.qrels, run, (metric,))[metric]

"""Choose fusion weights and k by measurement on the tuning queries (never the held-back ones).

Each leg is run once per query; every candidate setting then only re-fuses those rankings,
so a grid of hundreds of settings costs seconds. Besides RRF, the grid can cover min-max
score fusion (`fusion.method: minmax`, which has no k) when the legs' scores are given.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.evaluation.leg_runs import run_legs
from rag_pipelines.evaluation.metrics import evaluate
from rag_pipelines.retrieval.aggregate import document_scores
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.fusion import RankTable
from rag_pipelines.retrieval.legs.base import registered_legs

Rankings = dict[str, dict[str, list[str]]]  # query → leg → chunk ids, best first
Scored = dict[str, dict[str, tuple[list[str], dict[str, float]]]]  # … and their scores
Method = Literal["rrf", "minmax"]
METHODS: tuple[Method, ...] = ("rrf", "minmax")
K_GRID = (10, 30, 60, 100)
WEIGHT_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)


@dataclass(frozen=True)
class FusionChoice:
    """A fusion setting and its score."""

    k: int
    weights: dict[str, float]
    score: float
    method: Method = "rrf"


def leg_rankings(
    index: VersionIndex, golden: GoldenSet, source: str | None, depth: int = 100
) -> tuple[Rankings, dict[str, str]]:
    """Each leg's ranking per query, and chunk id → document id."""
    rankings, _, docs = leg_runs(index, golden, source, depth)
    return rankings, docs


def leg_runs(
    index: VersionIndex, golden: GoldenSet, source: str | None, depth: int = 100
) -> tuple[Rankings, Scored, dict[str, str]]:
    """Each leg's ranking per query, with its scores at the engine's depth, and chunk → doc."""
    runs = run_legs(index, golden, source)
    scored = {
        query_id: {name: (list(leg.ids), leg.score_of()) for name, leg in legs.items()}
        for query_id, legs in runs.results.items()
    }
    return runs.rankings(depth), scored, runs.documents


def score_setting(
    rankings: Rankings,
    docs: dict[str, str],
    golden: GoldenSet,
    k: int,
    weights: dict[str, float],
    metric: str = "ndcg@10",
    method: Method = "rrf",
    scored: Scored | None = None,
) -> float:
    """The metric of one fusion setting over the queries (minmax needs `scored`)."""
    if method == "minmax":
        assert scored is not None, "minmax fusion is scored from the legs' scores"
        return _minmax_score(_minmax_tables(scored, docs), golden, weights, metric)
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
    rankings: Rankings,
    docs: dict[str, str],
    golden: GoldenSet,
    metric: str = "ndcg@10",
    methods: Sequence[Method] = ("rrf",),
    scored: Scored | None = None,
    default_k: int = 60,
) -> FusionChoice:
    """The best setting on these queries (ties: the earliest method, then grid order).

    minmax has no k: its settings are the weights alone, recorded with `default_k`.
    """
    best: FusionChoice | None = None
    for method in methods:
        if method == "minmax":
            assert scored is not None, "minmax fusion is scored from the legs' scores"
            minmax = _minmax_tables(scored, docs)
            settings = grid(ks=(default_k,))
        else:
            tables = _tables(rankings)  # the legs as arrays once; a setting is a matrix product
            settings = grid()
        for k, weights in settings:
            if method == "minmax":
                value = _minmax_score(minmax, golden, weights, metric)
            else:
                value = _score(tables, docs, golden, k, weights, metric)
            if best is None or value > best.score + 1e-9:
                best = FusionChoice(k, weights, value, method)
    if best is None:
        raise ValueError("the fusion grid is empty")
    return best


MinmaxTable = tuple[list[str], list[str], np.ndarray]  # documents, legs, normalised scores


def _minmax_tables(scored: Scored, docs: dict[str, str]) -> dict[str, MinmaxTable]:
    """Per query, documents × legs: min-max normalised best-chunk scores, as minmax_documents."""
    out: dict[str, MinmaxTable] = {}
    for query_id, legs in scored.items():
        columns: dict[str, dict[str, float]] = {}
        order: dict[str, None] = {}
        for name, (ids, scores) in legs.items():
            top = sorted(document_scores(ids, scores, docs).items(), key=lambda kv: -kv[1])[:100]
            if not top:
                columns[name] = {}
                continue
            hi, lo = top[0][1], top[-1][1]
            columns[name] = {d: (v - lo) / (hi - lo) if hi > lo else 1.0 for d, v in top}
            order.update(dict.fromkeys(d for d, _ in top))
        documents, names = list(order), list(columns)
        matrix = np.array([[columns[n].get(d, 0.0) for n in names] for d in documents])
        out[query_id] = (documents, names, matrix.reshape(len(documents), len(names)))
    return out


def _minmax_score(
    tables: dict[str, MinmaxTable], golden: GoldenSet, weights: dict[str, float], metric: str
) -> float:
    run: dict[str, dict[str, float]] = {}
    for query_id, (documents, names, matrix) in tables.items():
        w = np.array([weights.get(n, 1.0) for n in names])
        # stable: ties keep first-seen order, as minmax_documents does
        order = np.argsort(-(matrix @ w), kind="stable")[:100]
        run[query_id] = {documents[i]: float(100 - r) for r, i in enumerate(order.tolist())}
    return evaluate(golden.qrels, run, (metric,))[metric]


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

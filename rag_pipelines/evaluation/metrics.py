"""Retrieval metrics: nDCG@k (linear gain, as trec_eval and ranx), Recall@k and MRR@k.

Computed here in plain Python: ranx's typed containers are compiled by numba in every new
process (minutes on a loaded machine before the first score, never cached), for four metrics
that are a few lines each. tests/retrieval/test_metrics.py checks them against ranx.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

DEFAULT_METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")
Metric = Callable[[list[str], Mapping[str, int], int], float]


def _ndcg(ranked: list[str], judged: Mapping[str, int], k: int) -> float:
    dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((r for r in judged.values() if r > 0), reverse=True)[:k]
    best = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / best if best > 0 else 0.0


def _recall(ranked: list[str], judged: Mapping[str, int], k: int) -> float:
    relevant = {d for d, r in judged.items() if r > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def _mrr(ranked: list[str], judged: Mapping[str, int], k: int) -> float:
    return next((1.0 / (i + 1) for i, d in enumerate(ranked[:k]) if judged.get(d, 0) > 0), 0.0)


METRICS: dict[str, Metric] = {"ndcg": _ndcg, "recall": _recall, "mrr": _mrr}


def evaluate(
    qrels: Mapping[str, Mapping[str, int]],
    run: Mapping[str, Mapping[str, float]],
    metrics: tuple[str, ...] = DEFAULT_METRICS,
) -> dict[str, float]:
    """Mean of each metric over the judged queries (queries missing from the run score 0)."""
    judged = {q: d for q, d in qrels.items() if d}
    # Highest score first; ties by document id, so a ranking never depends on dict order.
    ranked = {
        q: sorted((run.get(q) or {}).items(), key=lambda item: (-item[1], item[0])) for q in judged
    }
    scores: dict[str, float] = {}
    for name in metrics:
        kind, _, depth = name.partition("@")
        if kind not in METRICS or not depth.isdigit():
            raise ValueError(f"unknown metric {name!r}: use one of {list(DEFAULT_METRICS)}")
        metric, k = METRICS[kind], int(depth)
        values = [metric([d for d, _ in ranked[q]], judged[q], k) for q in judged]
        scores[name] = round(sum(values) / len(values), 4) if values else 0.0
    return scores

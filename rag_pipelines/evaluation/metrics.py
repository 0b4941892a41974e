"""Retrieval metrics from ranx (maintained, numba-compiled, TREC-compatible)."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")


def evaluate(
    qrels: Mapping[str, Mapping[str, int]],
    run: Mapping[str, Mapping[str, float]],
    metrics: tuple[str, ...] = DEFAULT_METRICS,
) -> dict[str, float]:
    """Mean of each metric over the judged queries (queries missing from the run score 0)."""
    from ranx import Qrels, Run
    from ranx import evaluate as ranx_evaluate

    judged = {q: dict(d) for q, d in qrels.items() if d}
    complete = {q: dict(run.get(q) or {}) for q in judged}
    # ranx rejects empty result lists; a query with no hits still counts, with score 0.
    for docs in complete.values():
        if not docs:
            docs["__no_hit__"] = 0.0
    scores = ranx_evaluate(Qrels(judged), Run(complete), list(metrics), make_comparable=True)
    if isinstance(scores, float):
        return {metrics[0]: float(scores)}
    return {name: round(float(value), 4) for name, value in scores.items()}

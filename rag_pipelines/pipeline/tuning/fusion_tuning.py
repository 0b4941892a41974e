"""Tune a candidate version's fusion on the golden sets' tuning part; report on held-back."""

from __future__ import annotations

from rag_pipelines.context import PipelineContext
from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.evaluation.quality import golden_sets
from rag_pipelines.evaluation.query_weight_tuning import learn_query_weights
from rag_pipelines.evaluation.tuning import (
    METHODS,
    Method,
    Rankings,
    Scored,
    leg_runs,
    score_setting,
    tune,
)
from rag_pipelines.index.layout import FUSION_RECORD, QUERY_WEIGHTS_RECORD
from rag_pipelines.index.records import FusionRecord
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.storage import atomic_write_text

Part = tuple[Rankings, Scored, dict[str, str], GoldenSet]  # a golden set's legs, run once


def tune_version(ctx: PipelineContext, version: str, index: VersionIndex) -> FusionRecord | None:
    """Tune on the first golden set's tuning part and record tuned vs default on both parts."""
    settings = ctx.config.evaluation
    if not settings.tune_fusion or not settings.sets:
        return None
    first = settings.sets[0]
    tune_set, source = golden_sets([first], "tune")[first.name]
    holdout_set, _ = golden_sets([first], "holdout")[first.name]
    metric = settings.gate.metric
    rankings, scored, docs = leg_runs(index, tune_set, source)
    default = index.fusion
    methods: tuple[Method, ...] = (default.method,)
    if settings.tune_fusion_method:
        methods += tuple(m for m in METHODS if m != default.method)
    best = tune(rankings, docs, tune_set, metric, methods, scored, default.k)
    default_weights = {str(k): float(v) for k, v in default.weights.items()}
    held, held_scored, held_docs = leg_runs(index, holdout_set, source)

    def on(part: Part, k: int, weights: dict[str, float], method: Method) -> float:
        ranked, scores, chunk_docs, golden = part
        value = score_setting(ranked, chunk_docs, golden, k, weights, metric, method, scores)
        return round(value, 4)

    tune_part: Part = (rankings, scored, docs, tune_set)
    held_part: Part = (held, held_scored, held_docs, holdout_set)
    record = FusionRecord(
        k=best.k,
        weights=best.weights,
        method=best.method,
        tuned_on=f"{first.name}:tune",
        tune_queries=len(tune_set.queries),
        holdout_queries=len(holdout_set.queries),
        scores={
            f"tune_{metric}_default": on(tune_part, default.k, default_weights, default.method),
            f"tune_{metric}_tuned": round(best.score, 4),
            f"holdout_{metric}_default": on(held_part, default.k, default_weights, default.method),
            f"holdout_{metric}_tuned": on(held_part, best.k, best.weights, best.method),
        },
    )
    atomic_write_text(
        ctx.registry.build_path(version) / FUSION_RECORD, record.model_dump_json(indent=2)
    )
    if settings.learn_query_weights:  # fitted in evaluation/query_weight_tuning.py
        index.fusion = index.fusion.model_copy(
            update={"k": best.k, "weights": best.weights, "method": best.method}
        )
        learned = learn_query_weights(index, tune_set, source)
        path = ctx.registry.build_path(version) / QUERY_WEIGHTS_RECORD
        atomic_write_text(path, learned.model_dump_json(indent=2))
    return record

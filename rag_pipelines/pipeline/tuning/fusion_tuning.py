"""Tune a candidate version's fusion on the golden sets' tuning part; report on held-back."""

from __future__ import annotations

from rag_pipelines.context import PipelineContext
from rag_pipelines.evaluation.quality import golden_sets
from rag_pipelines.evaluation.query_weight_tuning import learn_query_weights
from rag_pipelines.evaluation.tuning import leg_rankings, score_setting, tune
from rag_pipelines.index.layout import FUSION_RECORD, QUERY_WEIGHTS_RECORD
from rag_pipelines.index.records import FusionRecord
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.storage import atomic_write_text


def tune_version(ctx: PipelineContext, version: str, index: VersionIndex) -> FusionRecord | None:
    """Tune on the first golden set's tuning part and record tuned vs default on both parts."""
    settings = ctx.config.evaluation
    if not settings.tune_fusion or not settings.sets:
        return None
    first = settings.sets[0]
    tune_set, source = golden_sets([first], "tune")[first.name]
    holdout_set, _ = golden_sets([first], "holdout")[first.name]
    metric = settings.gate.metric
    rankings, docs = leg_rankings(index, tune_set, source)
    best = tune(rankings, docs, tune_set, metric)
    default = index.fusion
    default_weights = {str(k): float(v) for k, v in default.weights.items()}
    held, held_docs = leg_rankings(index, holdout_set, source)
    record = FusionRecord(
        k=best.k,
        weights=best.weights,
        tuned_on=f"{first.name}:tune",
        tune_queries=len(tune_set.queries),
        holdout_queries=len(holdout_set.queries),
        scores={
            f"tune_{metric}_default": round(
                score_setting(rankings, docs, tune_set, default.k, default_weights, metric), 4
            ),
            f"tune_{metric}_tuned": round(best.score, 4),
            f"holdout_{metric}_default": round(
                score_setting(held, held_docs, holdout_set, default.k, default_weights, metric), 4
            ),
            f"holdout_{metric}_tuned": round(
                score_setting(held, held_docs, holdout_set, best.k, best.weights, metric), 4
            ),
        },
    )
    atomic_write_text(
        ctx.registry.build_path(version) / FUSION_RECORD, record.model_dump_json(indent=2)
    )
    if settings.learn_query_weights:  # issue 16 hook: evaluation/query_weight_tuning.py
        index.fusion = index.fusion.model_copy(update={"k": best.k, "weights": best.weights})
        learned = learn_query_weights(index, tune_set, source)
        path = ctx.registry.build_path(version) / QUERY_WEIGHTS_RECORD
        atomic_write_text(path, learned.model_dump_json(indent=2))
    return record

"""Blocking quality checks of a candidate version: data quality and retrieval quality."""

from __future__ import annotations

from rag_pipelines.asset_graph import DATA_QUALITY, RETRIEVAL_QUALITY
from rag_pipelines.context import PipelineContext
from rag_pipelines.evaluation.quality import evaluate_version, gate, gate_part, golden_sets
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.pipeline.checks.blocking import CheckOutcome, record
from rag_pipelines.pipeline.checks.data_quality import inspect_version
from rag_pipelines.pipeline.checks.golden_deletions import describe, prune_deleted
from rag_pipelines.retrieval.open import open_version

NOT_MEASURED = (
    "not measured: no golden set (evaluation.sets is empty and no feedback yet), so this "
    "version was published without a quality gate; `rag-pipelines golden` builds one "
    "(README: Golden sets)"
)


def check_data_quality(
    ctx: PipelineContext, version: str, token_limit: int | None = None
) -> CheckOutcome:
    """Blocking problems fail; warnings are reported in the description."""
    found = inspect_version(ctx, version, token_limit)
    parts = [*found.blocking, *(f"warning: {w}" for w in found.warnings)]
    detail = "; ".join(parts) if parts else "ok"
    outcome = CheckOutcome(DATA_QUALITY, not found.blocking, detail, dict(found.metrics))
    return record(ctx, version, outcome)


def check_retrieval_quality(ctx: PipelineContext, version: str, store: VectorStore) -> CheckOutcome:
    """The candidate's golden-set metrics against the floor and against the live version."""
    settings = ctx.config.evaluation
    part = gate_part(ctx.config)
    feedback = ctx.workspace.feedback_set_dir if settings.use_feedback else None
    sets = golden_sets(settings.sets, part, feedback)
    if not sets:
        # Publishing goes ahead (there is nothing to gate on), but the UI must not say "passed".
        outcome = CheckOutcome(RETRIEVAL_QUALITY, True, NOT_MEASURED, {"measured": False}, False)
        return record(ctx, version, outcome)
    # Judgements of documents deleted at the source are set aside on both versions: the
    # candidate cannot find what the source no longer has, and must not lose against a live
    # version that still serves it.
    pruned = prune_deleted(ctx, sets, version)
    sets = pruned.sets
    if not sets:
        detail = f"not measured: every judged query went stale; {describe(pruned.stale)}"
        outcome = CheckOutcome(
            RETRIEVAL_QUALITY, True, detail, {"measured": False, **pruned.metadata()}, False
        )
        return record(ctx, version, outcome)
    modes = list(dict.fromkeys([*settings.modes, settings.gate.mode]))
    registry = ctx.registry
    candidate = evaluate_version(
        open_version(ctx, version, store), registry.build_path(version), sets, modes
    )
    live_pointer = registry.live()
    live = None
    if live_pointer is not None and live_pointer.version != version:
        live_index = open_version(ctx, live_pointer.version, store)
        live = evaluate_version(live_index, registry.build_path(live_pointer.version), sets, modes)
    verdict = gate(candidate, live, settings.gate)
    metadata = {
        "table": verdict.table,
        "live_version": live_pointer.version if live_pointer else "none",
        "part": part,
        "queries": {name: len(g.queries) for name, (g, _) in sets.items()},
        **pruned.metadata(),
    }
    detail = verdict.detail + (f"; {describe(pruned.stale)}" if pruned.stale else "")
    return record(ctx, version, CheckOutcome(RETRIEVAL_QUALITY, verdict.passed, detail, metadata))

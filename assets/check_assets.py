"""Asset checks: the blocking checks that gate publishing, and per-source freshness."""

from typing import Any

import dagster as dg

from assets.metadata import timestamp
from assets.resources import VectorStoreResource
from rag_pipelines.asset_graph import (
    DATA_QUALITY,
    INDEX_COUNTS_AGREE,
    INDEX_NOT_EMPTY,
    RETRIEVAL_QUALITY,
    freshness_check,
)
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.versions import utc_now
from rag_pipelines.pipeline.checks import blocking as check_stage
from rag_pipelines.pipeline.checks.blocking import CheckOutcome
from rag_pipelines.pipeline.checks.freshness import source_freshness
from rag_pipelines.pipeline.checks.quality_checks import check_data_quality, check_retrieval_quality
from rag_pipelines.pipeline.sync import pull_sources


def check_result(
    outcome: CheckOutcome, metadata: dict[str, Any] | None = None
) -> dg.AssetCheckResult:
    """A check stage's verdict as Dagster's check result."""
    return dg.AssetCheckResult(
        passed=outcome.shown_passed,
        severity=dg.AssetCheckSeverity(outcome.severity),
        description=outcome.detail,
        metadata=outcome.metadata if metadata is None else metadata,
    )


def build_candidate_checks(
    ctx: PipelineContext, candidate: dg.AssetsDefinition, feedback: dg.AssetsDefinition
) -> list[dg.AssetChecksDefinition]:
    """The blocking checks on candidate_index: publish only if all of them pass."""

    @dg.asset_check(
        name=INDEX_NOT_EMPTY,
        asset=candidate,
        blocking=True,
        description="Every source contributed chunks.",
    )
    def index_not_empty(candidate_index: str) -> dg.AssetCheckResult:
        ctx.registry.fetch(candidate_index)  # checks may run on another machine
        return check_result(check_stage.check_not_empty(ctx, candidate_index))

    @dg.asset_check(
        name=INDEX_COUNTS_AGREE,
        asset=candidate,
        blocking=True,
        description="Chunk counts agree across dense vectors, BM25 and the graph.",
    )
    def index_counts_agree(
        candidate_index: str, vector_store: VectorStoreResource
    ) -> dg.AssetCheckResult:
        ctx.registry.fetch(candidate_index)  # checks may run on another machine
        return check_result(
            check_stage.check_counts_agree(ctx, candidate_index, vector_store.get())
        )

    @dg.asset_check(
        name=DATA_QUALITY,
        asset=candidate,
        blocking=True,
        description="No empty/oversized/duplicate/orphan chunks; vectors finite, right dimension.",
    )
    def data_quality(candidate_index: str) -> dg.AssetCheckResult:
        ctx.registry.fetch(candidate_index)  # checks may run on another machine
        return check_result(check_data_quality(ctx, candidate_index))

    @dg.asset_check(
        name=RETRIEVAL_QUALITY,
        asset=candidate,
        blocking=True,
        additional_deps=[feedback],
        description=(
            "Golden-set quality above the floor and not worse than the live version; judgements"
            " of documents deleted at the source are set aside on both (listed in `stale`)."
        ),
    )
    def retrieval_quality(
        candidate_index: str, vector_store: VectorStoreResource
    ) -> dg.AssetCheckResult:
        ctx.registry.fetch(candidate_index)  # checks may run on another machine
        outcome = check_retrieval_quality(ctx, candidate_index, vector_store.get())
        metadata = dict(outcome.metadata)
        if "table" in metadata:
            metadata["table"] = dg.MetadataValue.md(str(metadata["table"]))
        for key in ("queries", "stale"):
            if key in metadata:
                metadata[key] = dg.MetadataValue.json(metadata[key])
        return check_result(outcome, metadata)

    return [index_not_empty, index_counts_agree, data_quality, retrieval_quality]


def build_freshness_checks(
    ctx: PipelineContext, published: dg.AssetsDefinition
) -> list[dg.AssetChecksDefinition]:
    """One warn-level check per source on published_index: ingested within max_lag_hours."""
    return [_freshness_check(ctx, published, s.name) for s in ctx.config.sources]


def _freshness_check(
    ctx: PipelineContext, published: dg.AssetsDefinition, source: str
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=published,
        name=freshness_check(source),
        description=f"Source {source} was ingested within its max_lag_hours.",
    )
    def check() -> dg.AssetCheckResult:
        pull_sources(ctx, [source])
        fresh = source_freshness(ctx, source, utc_now())
        return dg.AssetCheckResult(
            passed=fresh.fresh,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"last ingest {fresh.last_ingest_at or 'never'}, {fresh.lag_hours} h ago "
                f"(max {fresh.max_lag_hours} h)"
            ),
            metadata={
                "lag_hours": fresh.lag_hours or -1.0,
                "max_lag_hours": fresh.max_lag_hours,
                **(
                    {"last_ingest_at": timestamp(fresh.last_ingest_at)}
                    if fresh.last_ingest_at
                    else {}
                ),
            },
        )

    return check

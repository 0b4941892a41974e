"""The `reranking` and `published` groups: the version's reranker, then the atomic switch."""

from datetime import timedelta

import dagster as dg

from assets.metadata import seconds, timestamp
from assets.resources import BuildLockResource, VectorStoreResource
from rag_pipelines.asset_graph import (
    GROUP_PUBLISHED,
    GROUP_RERANKING,
    PUBLISHED_INDEX,
    RERANKER,
    index_pool,
)
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.records import RerankerRecord
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.pipeline.pin import pin_status
from rag_pipelines.pipeline.publish import publish
from rag_pipelines.pipeline.sync import pull_sources, version_synced
from rag_pipelines.pipeline.tuning.reranker import prepare_reranker
from rag_pipelines.retrieval.open import open_version


def build_reranker_asset(
    ctx: PipelineContext, candidate: dg.AssetsDefinition
) -> dg.AssetsDefinition:
    """The cross-encoder a candidate version reranks with."""

    @dg.asset(
        name=RERANKER,
        group_name=GROUP_RERANKING,
        kinds={"pytorch"},
        pool=index_pool(ctx.config.pipeline.name),
    )
    def reranker(
        context: dg.AssetExecutionContext, candidate_index: str, vector_store: VectorStoreResource
    ) -> dg.MaterializeResult:
        """The reranker this version uses: configured, trained on judged pairs, or none."""
        store = vector_store.get()
        with version_synced(ctx, candidate_index):
            record = _prepare(context, candidate_index, store)
        context.log.info(record.note)
        return dg.MaterializeResult(
            metadata={
                "index_version": candidate_index,
                "status": record.status,
                "kind": record.kind,
                "model_path": record.model_path or "",
                "rerank_by_default": record.enabled_by_default,
                "holdout": dg.MetadataValue.json(record.holdout),
                "training": dg.MetadataValue.json(record.training),
                "note": record.note,
                "seconds": seconds(record.seconds),
            }
        )

    def _prepare(
        context: dg.AssetExecutionContext, version: str, store: VectorStore
    ) -> RerankerRecord:
        return prepare_reranker(
            ctx,
            version,
            lambda: open_version(ctx, version, store),
            lambda stage, done, total: (
                context.log.info(f"{stage}: {done}/{total}")
                if done == total or done % 50 == 0
                else None
            ),
        )

    return reranker


def build_published_asset(
    ctx: PipelineContext, reranker: dg.AssetsDefinition
) -> dg.AssetsDefinition:
    """The live version, switched only after its blocking checks passed."""
    max_lag = min(ctx.config.freshness_for(s).max_lag_hours for s in ctx.config.sources)

    @dg.asset(
        name=PUBLISHED_INDEX,
        group_name=GROUP_PUBLISHED,
        deps=[reranker],
        kinds={"qdrant"},
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=max_lag)),
        pool=index_pool(ctx.config.pipeline.name),
    )
    def published_index(
        context: dg.AssetExecutionContext,
        candidate_index: str,
        vector_store: VectorStoreResource,
        build_lock: BuildLockResource,
    ) -> dg.MaterializeResult:
        """The live index version: switched atomically once its checks pass, unless pinned."""
        pull_sources(ctx)  # staleness reads every source's ledger
        report = publish(ctx, candidate_index, vector_store.get(), context.run.run_id)
        pin = pin_status(ctx, report.pointer)
        if report.held:  # a rollback's pin: the step succeeds and says why nothing switched
            context.log.warning(report.held)
        return dg.MaterializeResult(
            metadata={
                "index_version": report.pointer.version,
                "candidate_version": candidate_index,
                "pinned": pin.line() if pin is not None else "no",
                "previous_version": report.pointer.previous or "",
                "switched": report.changed,
                "published_at": timestamp(report.pointer.published_at),
                "collected_versions": ", ".join(report.collected) or "none",
                "staleness": dg.MetadataValue.json(report.pointer.staleness),
                "max_staleness_s": report.pointer.staleness.get("max_staleness_s", 0.0),
            }
        )

    return published_index

"""Per-source assets, partitioned by source (or shard) key: documents → chunks → embeddings."""

from contextlib import AbstractContextManager

import dagster as dg

from assets.executor import gpu_step_tags
from assets.metadata import (
    as_metadata,
    ledger_times,
    quarantine_table,
    quarantine_times,
    seconds,
)
from assets.resources import EmbeddingModelResource
from assets.source_guard import SOURCE_LOCK_WAIT_S
from rag_pipelines.asset_graph import (
    CHUNKS,
    DOCUMENTS,
    EMBEDDINGS,
    GROUP_CHUNKS,
    GROUP_EMBEDDINGS,
    GROUP_INGEST,
)
from rag_pipelines.context import PipelineContext
from rag_pipelines.locks import exclusive
from rag_pipelines.pipeline.build import chunks as chunk_stage
from rag_pipelines.pipeline.build import documents as document_stage
from rag_pipelines.pipeline.build import embeddings as embedding_stage
from rag_pipelines.pipeline.checks.quarantine import load_quarantine
from rag_pipelines.pipeline.sync import shard_synced
from rag_pipelines.progress import ProgressMeter, ProgressUpdate
from rag_pipelines.shards import Shard

# Seconds between progress lines in the run's log (the last batch is always logged).
PROGRESS_EVERY_S = 5.0


def build_source_assets(
    ctx: PipelineContext, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    """The per-source assets of a pipeline."""

    @dg.asset(
        name=DOCUMENTS, group_name=GROUP_INGEST, partitions_def=partitions, kinds={"unstructured"}
    )
    def documents(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """Documents of a source or shard, parsed with unstructured; unchanged files are reused."""
        shard = ctx.shard(context.partition_key)
        with _source_lock(ctx, shard), shard_synced(ctx, shard):
            report = document_stage.ingest(ctx, shard, _meter(context, "parsing"))
        for failure in report.failures:
            context.log.warning(f"{failure.document_id}: {failure.error_type}: {failure.reason}")
        quarantined = [
            q for q in load_quarantine(ctx, [shard.source]) if shard.holds(q.document_id)
        ]
        return dg.MaterializeResult(
            metadata={
                "documents": len(report.documents),
                "added": len(report.added),
                "changed": len(report.changed),
                "deleted": len(report.deleted),
                "unchanged": len(report.unchanged),
                "failed": len(report.failures),
                "kept_last_good": len(report.kept),
                "quarantined": len(quarantined),
                "quarantine": quarantine_table(quarantined),
                **quarantine_times(quarantined),
                **ledger_times(document_stage.shard_ledger(ctx, shard)),
                "seconds": seconds(report.seconds),
            }
        )

    @dg.asset(
        name=CHUNKS,
        group_name=GROUP_CHUNKS,
        partitions_def=partitions,
        deps=[documents],
        kinds={"llamaindex"},
    )
    def chunks(
        context: dg.AssetExecutionContext, embedding_model: EmbeddingModelResource
    ) -> dg.MaterializeResult:
        """Sentence- and heading-aware chunks sized in the embedding model's tokens."""
        shard = ctx.shard(context.partition_key)
        with _source_lock(ctx, shard), shard_synced(ctx, shard):
            report = chunk_stage.chunk(ctx, shard, embedding_model.get().tokenizer)
        return dg.MaterializeResult(
            metadata={
                "documents": report.documents,
                "documents_rechunked": report.documents - report.documents_reused,
                "injection_suspect_chunks": report.injection_suspects,
                "short_chunks_merged": report.short_merged,
                "short_chunks_extended": report.short_extended,
                "short_chunks_dropped": report.short_dropped,
                "chunks": report.chunks,
                "tokens": report.tokens,
                "max_chunk_tokens": report.max_tokens,
                "token_limit": report.token_limit,
                "chunker": report.chunker,
                "seconds": seconds(report.seconds),
            }
        )

    @dg.asset(
        name=EMBEDDINGS,
        group_name=GROUP_EMBEDDINGS,
        partitions_def=partitions,
        deps=[chunks],
        kinds={"pytorch"},
        op_tags=gpu_step_tags(ctx.config.embedding),  # a GPU node under k8s_job_executor
    )
    def embeddings(
        context: dg.AssetExecutionContext, embedding_model: EmbeddingModelResource
    ) -> dg.MaterializeResult:
        """Vectors for every chunk, computed only where the cache lacks them for this model."""
        model = embedding_model.get()
        shard = ctx.shard(context.partition_key)
        with _source_lock(ctx, shard), shard_synced(ctx, shard):
            report = embedding_stage.embed(ctx, shard, model, _meter(context, "embedding"))
        rate = report.embedded / report.seconds if report.seconds > 0 and report.embedded else None
        return dg.MaterializeResult(
            metadata=as_metadata(
                {
                    "chunks": report.chunks,
                    "embedded": report.embedded,
                    "reused_from_cache": report.reused,
                    "tokens_embedded": report.tokens_embedded,
                    "seconds": seconds(report.seconds),
                    "chunks_per_second": round(rate, 1) if rate else None,
                    "model_fingerprint": report.fingerprint,
                    "device": model.runtime.device,
                    "precision": model.runtime.precision,
                }
            )
        )

    return [documents, chunks, embeddings]


def _meter(context: dg.AssetExecutionContext, stage: str) -> ProgressMeter:
    """A progress callback writing `progress <stage>: done/total · rate · ETA` to the run's log."""

    def log(update: ProgressUpdate) -> None:
        context.log.info(update.line())

    return ProgressMeter(stage, log, every_s=PROGRESS_EVERY_S)


def _source_lock(ctx: PipelineContext, shard: Shard) -> AbstractContextManager[None]:
    """The shard's file lock (the source's when unsharded), so the N shard runs of one source
    run at once: within one instance the run queue already keeps two runs of a partition apart,
    and a build's snapshot holds it for seconds, so wait that long; a holder for longer is a run
    of another Dagster instance on this data dir, and this run refuses."""
    return exclusive(
        ctx.workspace.source_lock(shard.source, shard.folder),
        f"source {shard.key!r}",
        timeout_s=SOURCE_LOCK_WAIT_S,
    )

"""Corpus-wide assets: the versioned vector index, its blocking checks, and publishing."""

import dagster as dg

from assets.metadata import seconds
from assets.resources import VectorStoreResource
from rag_pipelines.pipeline import checks as check_stage
from rag_pipelines.pipeline.build import build_index
from rag_pipelines.pipeline.context import PipelineContext
from rag_pipelines.pipeline.publish import publish


def build_index_assets(
    ctx: PipelineContext, embeddings: dg.AssetsDefinition
) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """vector_index, published_index and the checks that gate publishing."""

    @dg.asset(group_name="indexes", deps=[embeddings], kinds={"qdrant"})
    def vector_index(
        context: dg.AssetExecutionContext, vector_store: VectorStoreResource
    ) -> dg.Output[str]:
        """A new immutable index version in Qdrant holding every source's chunks and vectors."""
        report = build_index(ctx, vector_store.get())
        m = report.manifest
        if report.reused:
            context.log.info(f"nothing changed since {m.version}; reusing it")
        return dg.Output(
            m.version,
            metadata={
                "index_version": m.version,
                "reused_unchanged_version": report.reused,
                "collection": m.collection,
                "store": m.store_kind,
                "documents": m.documents,
                "chunks": m.chunks,
                "vectors": m.vectors,
                "model_fingerprint": m.model.key,
                "seconds": seconds(report.seconds),
                "per_source": dg.MetadataValue.json(
                    {k: v.model_dump() for k, v in m.sources.items()}
                ),
            },
        )

    @dg.asset_check(
        asset=vector_index, blocking=True, description="The build has chunks from every source."
    )
    def index_not_empty(vector_index: str) -> dg.AssetCheckResult:
        outcome = check_stage.check_not_empty(ctx, vector_index)
        return dg.AssetCheckResult(
            passed=outcome.passed, description=outcome.detail, metadata=outcome.metadata
        )

    @dg.asset_check(
        asset=vector_index, blocking=True, description="Every chunk is in the vector index once."
    )
    def index_counts_agree(
        vector_index: str, vector_store: VectorStoreResource
    ) -> dg.AssetCheckResult:
        outcome = check_stage.check_counts_agree(ctx, vector_index, vector_store.get())
        return dg.AssetCheckResult(
            passed=outcome.passed, description=outcome.detail, metadata=outcome.metadata
        )

    @dg.asset(group_name="published", kinds={"qdrant"})
    def published_index(
        vector_index: str, vector_store: VectorStoreResource
    ) -> dg.MaterializeResult:
        """The live index version: switched atomically, only after its blocking checks passed."""
        report = publish(ctx, vector_index, vector_store.get())
        return dg.MaterializeResult(
            metadata={
                "index_version": report.pointer.version,
                "previous_version": report.pointer.previous or "",
                "switched": report.changed,
                "published_at": report.pointer.published_at,
                "collected_versions": ", ".join(report.collected) or "none",
            }
        )

    return [vector_index, published_index], [index_not_empty, index_counts_agree]

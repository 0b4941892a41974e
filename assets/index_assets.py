"""Corpus-wide assets: snapshot → vector/BM25/graph indexes → candidate (checked) → published.

One factory per asset group; `build_index_assets` wires them together.
"""

from typing import Any

import dagster as dg

from assets.check_assets import build_candidate_checks, build_freshness_checks
from assets.evaluation_assets import build_feedback_asset
from assets.metadata import seconds
from assets.publish_assets import build_published_asset, build_reranker_asset
from assets.resources import BuildLockResource, VectorStoreResource
from assets.source_guard import sources_settled
from rag_pipelines.asset_graph import (
    BM25_INDEX,
    CANDIDATE_INDEX,
    CORPUS_SNAPSHOT,
    GRAPH_INDEX,
    GROUP_INDEXES,
    VECTOR_INDEX,
    index_pool,
)
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.records import load_fusion_record
from rag_pipelines.pipeline.build.candidate import complete_candidate
from rag_pipelines.pipeline.build.cleanup import remove_incomplete_builds
from rag_pipelines.pipeline.build.indexes import (
    PartRecord,
    build_bm25_index,
    build_graph_index,
    build_vector_index,
)
from rag_pipelines.pipeline.build.snapshot import SnapshotReport, snapshot_corpus
from rag_pipelines.pipeline.sync import pull_sources, push_new_version, version_synced
from rag_pipelines.pipeline.tuning.fusion_tuning import tune_version
from rag_pipelines.retrieval.open import open_version


def build_index_assets(
    ctx: PipelineContext, embeddings: dg.AssetsDefinition
) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """The corpus-wide assets of a pipeline and the checks that gate publishing."""
    indexes = build_indexes_group(ctx, embeddings)
    candidate = indexes[-1]
    feedback = build_feedback_asset(ctx)
    reranker = build_reranker_asset(ctx, candidate)
    published = build_published_asset(ctx, reranker)
    checks = [
        *build_candidate_checks(ctx, candidate, feedback),
        *build_freshness_checks(ctx, published),
    ]
    return [feedback, reranker, *indexes, published], checks


def build_indexes_group(
    ctx: PipelineContext, embeddings: dg.AssetsDefinition
) -> list[dg.AssetsDefinition]:
    """The `indexes` group: snapshot, the three indexes, the candidate version (last)."""
    pool = index_pool(ctx.config.pipeline.name)

    @dg.asset(
        name=CORPUS_SNAPSHOT,
        group_name=GROUP_INDEXES,
        deps=[embeddings],
        kinds={"python"},
        pool=pool,
    )
    def corpus_snapshot(
        context: dg.AssetExecutionContext,
        vector_store: VectorStoreResource,
        build_lock: BuildLockResource,
    ) -> dg.Output[str]:
        """All sources' chunks frozen into a new index version (or the unchanged newest one)."""
        removed = remove_incomplete_builds(ctx, vector_store.get())  # safe: we hold the lock
        if removed:
            context.log.warning(f"removed incomplete builds of crashed runs: {removed}")
        with sources_settled(context, ctx):
            pull_sources(ctx)
            report = snapshot_corpus(ctx)
        if not report.reused:
            push_new_version(ctx, report.snapshot.version)
        if report.reused:
            context.log.info(f"nothing changed since {report.snapshot.version}; reusing it")
        return dg.Output(report.snapshot.version, metadata=_snapshot_metadata(report))

    @dg.asset(name=VECTOR_INDEX, group_name=GROUP_INDEXES, kinds={"qdrant"}, pool=pool)
    def vector_index(
        corpus_snapshot: str, vector_store: VectorStoreResource
    ) -> dg.MaterializeResult:
        """Dense vectors with chunk text and provenance in Qdrant, one collection per version."""
        with version_synced(ctx, corpus_snapshot):
            part = build_vector_index(ctx, corpus_snapshot, vector_store.get())
        return dg.MaterializeResult(metadata=_part_metadata(part, corpus_snapshot))

    @dg.asset(name=BM25_INDEX, group_name=GROUP_INDEXES, kinds={"qdrant"}, pool=pool)
    def bm25_index(corpus_snapshot: str, vector_store: VectorStoreResource) -> dg.MaterializeResult:
        """BM25 over the version's chunks, as precomputed sparse vectors in Qdrant."""
        with version_synced(ctx, corpus_snapshot):
            part = build_bm25_index(ctx, corpus_snapshot, vector_store.get())
        return dg.MaterializeResult(metadata=_part_metadata(part, corpus_snapshot))

    @dg.asset(name=GRAPH_INDEX, group_name=GROUP_INDEXES, kinds={"networkx"}, pool=pool)
    def graph_index(corpus_snapshot: str) -> dg.MaterializeResult:
        """Knowledge graph of documents, chunks and key phrases (networkx, versioned JSON)."""
        with version_synced(ctx, corpus_snapshot):
            part = build_graph_index(ctx, corpus_snapshot)
        return dg.MaterializeResult(metadata=_part_metadata(part, corpus_snapshot))

    @dg.asset(
        name=CANDIDATE_INDEX,
        group_name=GROUP_INDEXES,
        deps=[vector_index, bm25_index, graph_index],
        kinds={"python"},
        pool=pool,
    )
    def candidate_index(
        context: dg.AssetExecutionContext, corpus_snapshot: str, vector_store: VectorStoreResource
    ) -> dg.Output[str]:
        """A complete index version (manifest written), awaiting its blocking checks."""
        with version_synced(ctx, corpus_snapshot):
            return _complete(ctx, corpus_snapshot, vector_store, context.run.run_id)

    return [corpus_snapshot, vector_index, bm25_index, graph_index, candidate_index]


def _complete(
    ctx: PipelineContext, snapshot: str, vector_store: VectorStoreResource, run_id: str
) -> dg.Output[str]:
    """Write the candidate's manifest naming this run (tuning fusion first when configured)."""
    store = vector_store.get()
    m = complete_candidate(ctx, snapshot, store.kind, run_id).manifest
    tuned = load_fusion_record(ctx.registry.build_path(m.version))
    if tuned is None and ctx.config.evaluation.tune_fusion:
        tuned = tune_version(ctx, m.version, open_version(ctx, m.version, store))
    extra: dict[str, Any] = {}
    if tuned is not None:
        extra = {
            "fusion_k": tuned.k,
            "fusion_weights": dg.MetadataValue.json(tuned.weights),
            "fusion_tuning": dg.MetadataValue.json(tuned.scores),
        }
    return dg.Output(
        m.version,
        metadata={
            **extra,
            "index_version": m.version,
            "documents": m.documents,
            "chunks": m.chunks,
            "dense_vectors": m.vectors,
            "bm25_points": m.bm25_points,
            "graph_chunk_nodes": m.graph_chunks,
            "model_fingerprint": m.model.key,
            "build_seconds": seconds(m.build_seconds),
            "built_by_run": m.run_id,
        },
    )


def _snapshot_metadata(report: SnapshotReport) -> dict[str, Any]:
    snap = report.snapshot
    return {
        "index_version": snap.version,
        "reused_unchanged_version": report.reused,
        "documents": snap.documents,
        "chunks": snap.chunks,
        "model_fingerprint": snap.model.key,
        "seconds": seconds(report.seconds),
        "per_source": dg.MetadataValue.json({k: v.model_dump() for k, v in snap.sources.items()}),
    }


def _part_metadata(part: PartRecord, version: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "index_version": version,
        "items": part.items,
        "seconds": seconds(part.seconds),
    }
    if part.collection:
        meta["collection"] = part.collection
    if part.details:
        meta["details"] = dg.MetadataValue.json(part.details)
    return meta

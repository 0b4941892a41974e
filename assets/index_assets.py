"""Corpus-wide assets: snapshot → vector/BM25/graph indexes → candidate (checked) → published."""

from datetime import timedelta
from typing import Any

import dagster as dg

from assets.metadata import seconds
from assets.resources import BuildLockResource, VectorStoreResource
from rag_pipelines.index.versions import utc_now
from rag_pipelines.pipeline import checks as check_stage
from rag_pipelines.pipeline.candidate import complete_candidate
from rag_pipelines.pipeline.cleanup import remove_incomplete_builds
from rag_pipelines.pipeline.context import PipelineContext
from rag_pipelines.pipeline.feedback import collect_feedback
from rag_pipelines.pipeline.freshness import source_freshness
from rag_pipelines.pipeline.fusion_tuning import load_fusion_record, tune_version
from rag_pipelines.pipeline.indexes import (
    PartRecord,
    build_bm25_index,
    build_graph_index,
    build_vector_index,
)
from rag_pipelines.pipeline.publish import publish
from rag_pipelines.pipeline.quality_checks import check_data_quality, check_retrieval_quality
from rag_pipelines.pipeline.reranker import prepare_reranker
from rag_pipelines.pipeline.snapshot import snapshot_corpus
from rag_pipelines.retrieval.open import open_version


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


def build_index_assets(
    ctx: PipelineContext, embeddings: dg.AssetsDefinition
) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """The corpus-wide assets of a pipeline and the checks that gate publishing."""

    @dg.asset(group_name="indexes", deps=[embeddings], kinds={"python"})
    def corpus_snapshot(
        context: dg.AssetExecutionContext,
        vector_store: VectorStoreResource,
        build_lock: BuildLockResource,
    ) -> dg.Output[str]:
        """All sources' chunks frozen into a new index version (or the unchanged newest one)."""
        removed = remove_incomplete_builds(ctx, vector_store.get())  # safe: we hold the lock
        if removed:
            context.log.warning(f"removed incomplete builds of crashed runs: {removed}")
        report = snapshot_corpus(ctx)
        snap = report.snapshot
        if report.reused:
            context.log.info(f"nothing changed since {snap.version}; reusing it")
        return dg.Output(
            snap.version,
            metadata={
                "index_version": snap.version,
                "reused_unchanged_version": report.reused,
                "documents": snap.documents,
                "chunks": snap.chunks,
                "model_fingerprint": snap.model.key,
                "seconds": seconds(report.seconds),
                "per_source": dg.MetadataValue.json(
                    {k: v.model_dump() for k, v in snap.sources.items()}
                ),
            },
        )

    @dg.asset(group_name="indexes", kinds={"qdrant"})
    def vector_index(
        corpus_snapshot: str, vector_store: VectorStoreResource
    ) -> dg.MaterializeResult:
        """Dense vectors with chunk text and provenance in Qdrant, one collection per version."""
        part = build_vector_index(ctx, corpus_snapshot, vector_store.get())
        return dg.MaterializeResult(metadata=_part_metadata(part, corpus_snapshot))

    @dg.asset(group_name="indexes", kinds={"qdrant"})
    def bm25_index(corpus_snapshot: str, vector_store: VectorStoreResource) -> dg.MaterializeResult:
        """BM25 over the version's chunks, as precomputed sparse vectors in Qdrant."""
        part = build_bm25_index(ctx, corpus_snapshot, vector_store.get())
        return dg.MaterializeResult(metadata=_part_metadata(part, corpus_snapshot))

    @dg.asset(group_name="indexes", kinds={"networkx"})
    def graph_index(corpus_snapshot: str) -> dg.MaterializeResult:
        """Knowledge graph of documents, chunks and key phrases (networkx, versioned JSON)."""
        part = build_graph_index(ctx, corpus_snapshot)
        return dg.MaterializeResult(metadata=_part_metadata(part, corpus_snapshot))

    @dg.asset(
        group_name="indexes",
        deps=[vector_index, bm25_index, graph_index],
        kinds={"python"},
    )
    def candidate_index(corpus_snapshot: str, vector_store: VectorStoreResource) -> dg.Output[str]:
        """A complete index version (manifest written), awaiting its blocking checks."""
        store = vector_store.get()
        report = complete_candidate(ctx, corpus_snapshot, store.kind)
        m = report.manifest
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
            },
        )

    @dg.asset_check(
        asset=candidate_index, blocking=True, description="Every source contributed chunks."
    )
    def index_not_empty(candidate_index: str) -> dg.AssetCheckResult:
        outcome = check_stage.check_not_empty(ctx, candidate_index)
        return dg.AssetCheckResult(
            passed=outcome.passed, description=outcome.detail, metadata=outcome.metadata
        )

    @dg.asset_check(
        asset=candidate_index,
        blocking=True,
        description="Chunk counts agree across dense vectors, BM25 and the graph.",
    )
    def index_counts_agree(
        candidate_index: str, vector_store: VectorStoreResource
    ) -> dg.AssetCheckResult:
        outcome = check_stage.check_counts_agree(ctx, candidate_index, vector_store.get())
        return dg.AssetCheckResult(
            passed=outcome.passed, description=outcome.detail, metadata=outcome.metadata
        )

    @dg.asset(group_name="evaluation", kinds={"sqlite"})
    def feedback() -> dg.MaterializeResult:
        """Feedback from the service (useful / not useful hits), as a golden set for the checks."""
        report = collect_feedback(ctx)
        rows = ["| received | useful | query | document |", "| --- | --- | --- | --- |"]
        for r in report.recent:
            query = r.query.replace("|", "\\|")[:80]
            rows.append(
                f"| {r.received_at} | {'yes' if r.useful else 'no'} | {query} | {r.document_id} |"
            )
        return dg.MaterializeResult(
            metadata={
                "judgements": report.golden.judgements,
                "useful": report.useful,
                "not_useful": report.not_useful,
                "golden_queries": report.golden.queries,
                "golden_relevant_pairs": report.golden.relevant,
                "recent": dg.MetadataValue.md("\n".join(rows)),
            }
        )

    @dg.asset_check(
        asset=candidate_index,
        blocking=True,
        description="No empty/oversized/duplicate/orphan chunks; vectors finite, right dimension.",
    )
    def data_quality(candidate_index: str) -> dg.AssetCheckResult:
        outcome = check_data_quality(ctx, candidate_index)
        return dg.AssetCheckResult(
            passed=outcome.passed, description=outcome.detail, metadata=outcome.metadata
        )

    @dg.asset_check(
        asset=candidate_index,
        blocking=True,
        additional_deps=[feedback],
        description="Golden-set quality above the floor and not worse than the live version.",
    )
    def retrieval_quality(
        candidate_index: str, vector_store: VectorStoreResource
    ) -> dg.AssetCheckResult:
        outcome = check_retrieval_quality(ctx, candidate_index, vector_store.get())
        metadata = dict(outcome.metadata)
        if "table" in metadata:
            metadata["table"] = dg.MetadataValue.md(str(metadata["table"]))
        if "queries" in metadata:
            metadata["queries"] = dg.MetadataValue.json(metadata["queries"])
        return dg.AssetCheckResult(
            passed=outcome.shown_passed,
            severity=dg.AssetCheckSeverity(outcome.severity),
            description=outcome.detail,
            metadata=metadata,
        )

    @dg.asset(group_name="reranking", kinds={"pytorch"})
    def reranker(
        context: dg.AssetExecutionContext, candidate_index: str, vector_store: VectorStoreResource
    ) -> dg.MaterializeResult:
        """Cross-encoder this version reranks with: configured, trained on judged pairs, or none."""
        store = vector_store.get()
        record = prepare_reranker(
            ctx,
            candidate_index,
            lambda: open_version(ctx, candidate_index, store),
            lambda stage, done, total: (
                context.log.info(f"{stage}: {done}/{total}")
                if done == total or done % 50 == 0
                else None
            ),
        )
        context.log.info(record.note)
        return dg.MaterializeResult(
            metadata={
                "index_version": candidate_index,
                "status": record.status,
                "model_path": record.model_path or "",
                "rerank_by_default": record.enabled_by_default,
                "holdout": dg.MetadataValue.json(record.holdout),
                "training": dg.MetadataValue.json(record.training),
                "note": record.note,
                "seconds": seconds(record.seconds),
            }
        )

    max_lag = min(ctx.config.freshness_for(s).max_lag_hours for s in ctx.config.sources)

    @dg.asset(
        group_name="published",
        deps=[reranker],
        kinds={"qdrant"},
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=max_lag)),
    )
    def published_index(
        candidate_index: str, vector_store: VectorStoreResource, build_lock: BuildLockResource
    ) -> dg.MaterializeResult:
        """The live index version: switched atomically, only after its blocking checks passed."""
        report = publish(ctx, candidate_index, vector_store.get())
        return dg.MaterializeResult(
            metadata={
                "index_version": report.pointer.version,
                "previous_version": report.pointer.previous or "",
                "switched": report.changed,
                "published_at": report.pointer.published_at,
                "collected_versions": ", ".join(report.collected) or "none",
                "staleness": dg.MetadataValue.json(report.pointer.staleness),
                "max_staleness_s": report.pointer.staleness.get("max_staleness_s", 0.0),
            }
        )

    freshness_checks = [_freshness_check(ctx, published_index, s.name) for s in ctx.config.sources]

    assets = [
        feedback,
        reranker,
        corpus_snapshot,
        vector_index,
        bm25_index,
        graph_index,
        candidate_index,
        published_index,
    ]
    checks = [index_not_empty, index_counts_agree, data_quality, retrieval_quality]
    return assets, [*checks, *freshness_checks]


def _freshness_check(
    ctx: PipelineContext, published: dg.AssetsDefinition, source: str
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=published,
        name=f"source_fresh_{source}",
        description=f"Source {source} was ingested within its max_lag_hours.",
    )
    def check() -> dg.AssetCheckResult:
        fresh = source_freshness(ctx, source, utc_now())
        return dg.AssetCheckResult(
            passed=fresh.fresh,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"last ingest {fresh.last_ingest_at or 'never'}, {fresh.lag_hours} h ago "
                f"(max {fresh.max_lag_hours} h)"
            ),
            metadata={"lag_hours": fresh.lag_hours or -1.0, "max_lag_hours": fresh.max_lag_hours},
        )

    return check

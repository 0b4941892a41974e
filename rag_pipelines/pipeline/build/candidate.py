"""Stage 6: complete a version — its manifest is written once every index part exists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rag_pipelines.context import PipelineContext
from rag_pipelines.errors import RagPipelinesError
from rag_pipelines.faults import crash_point
from rag_pipelines.index.manifest import BuildManifest, GenerationRecord
from rag_pipelines.index.versions import utc_now
from rag_pipelines.pipeline.build.indexes import load_part
from rag_pipelines.pipeline.build.snapshot import load_snapshot

PARTS = ("vector", "bm25", "graph")


class IncompleteBuild(RagPipelinesError):
    """An index part of the version is missing."""


@dataclass
class CandidateReport:
    """The completed (or already complete) version."""

    manifest: BuildManifest
    reused: bool


def complete_candidate(
    ctx: PipelineContext, version: str, store_kind: str, run_id: str = ""
) -> CandidateReport:
    """Write the manifest that turns a build folder into a version, naming the orchestrator run
    that completes it (a version already complete keeps the run that built it)."""
    registry = ctx.registry
    if version in registry.versions():
        return CandidateReport(registry.manifest(version), True)
    snapshot = load_snapshot(ctx, version)
    parts = {name: load_part(ctx, version, name) for name in PARTS}
    missing = [name for name, part in parts.items() if part is None]
    if missing:
        raise IncompleteBuild(f"version {version} lacks index part(s) {missing}")
    vector, bm25, graph = (parts[n] for n in PARTS)
    assert vector is not None and bm25 is not None and graph is not None
    manifest = BuildManifest(
        version=version,
        pipeline=snapshot.pipeline,
        created_at=snapshot.created_at,
        completed_at=utc_now(),
        build_seconds=round(vector.seconds + bm25.seconds + graph.seconds, 3),
        store_kind=store_kind,
        collection=vector.collection or "",
        bm25_collection=bm25.collection or "",
        model_ref=snapshot.model_ref,
        model=snapshot.model,
        sources=snapshot.sources,
        documents=snapshot.documents,
        chunks=snapshot.chunks,
        vectors=vector.items,
        bm25_points=bm25.items,
        graph_chunks=graph.items,
        graph=graph.details,
        settings={**snapshot.settings, "bm25_terms": bm25.details.get("terms")},
        retrieval=ctx.config.retrieval.model_dump(mode="json"),
        content_hash=snapshot.content_hash,
        run_id=run_id,
        generation=_generation(vector.details, bm25.details),
    )
    registry.complete(manifest)
    crash_point("manifest_written")
    return CandidateReport(manifest, False)


def _generation(vector: dict[str, Any], bm25: dict[str, Any]) -> GenerationRecord | None:
    """Where the version lives in generation collections; None for copy-per-version parts."""
    if "sequence" not in vector:
        return None
    return GenerationRecord(
        sequence=int(vector["sequence"]),
        dense_key=str(vector["generation_key"]),
        bm25_key=str(bm25["generation_key"]),
        bm25_avgdl=float(bm25["generation_avgdl"]),
    )

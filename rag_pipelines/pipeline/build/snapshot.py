"""Stage 4: freeze every source's chunks and documents into a new version's folder.

The vector, BM25 and graph indexes are then built from this snapshot, so the three always
describe exactly the same chunks. If nothing changed since the newest version (same chunks,
model, index and retrieval settings), that version is reused and no index is rebuilt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.fingerprint import ModelFingerprint
from rag_pipelines.errors import RagPipelinesError
from rag_pipelines.faults import crash_point
from rag_pipelines.hashing import sha256_text
from rag_pipelines.index.access import DOCUMENT_GROUPS, AccessPolicy
from rag_pipelines.index.layout import CHUNKS, DOCUMENTS, SNAPSHOT
from rag_pipelines.index.manifest import SourceSummary
from rag_pipelines.index.versions import utc_now
from rag_pipelines.ingest.models import Document
from rag_pipelines.pipeline.build.chunks import load_chunks, shard_chunks
from rag_pipelines.pipeline.build.documents import load_documents, load_failures
from rag_pipelines.pipeline.build.embeddings import EmbeddingState, load_embedding_state
from rag_pipelines.pipeline.build.shard_state import chunk_order, document_order
from rag_pipelines.shards import Shard
from rag_pipelines.storage import atomic_write_text, iter_jsonl, write_jsonl


class StaleEmbeddings(RagPipelinesError):
    """A source's chunks were not embedded with the current model (re-run its embeddings)."""


class Snapshot(BaseModel):
    """What a version is built from (the manifest, minus what the index builds add)."""

    version: str
    pipeline: str
    created_at: str
    model_ref: str
    model: ModelFingerprint
    sources: dict[str, SourceSummary]
    documents: int
    chunks: int
    content_hash: str
    settings: dict[str, object]


@dataclass
class SnapshotReport:
    """The version to build (or reuse) and how long freezing took."""

    snapshot: Snapshot
    reused: bool
    seconds: float


def snapshot_corpus(ctx: PipelineContext) -> SnapshotReport:
    """Freeze the corpus into a new version folder, or reuse the newest identical version."""
    started = time.perf_counter()
    states = _embedding_states(ctx)
    model_state = next(iter(states.values()))
    _check_fresh(ctx, states)
    # One order whatever the number of shards (shard_state.py): ties rank the same in both.
    names = [s.name for s in ctx.config.sources]
    chunks = {n: sorted(load_chunks(ctx, n), key=chunk_order) for n in names}
    documents = {n: sorted(load_documents(ctx, n), key=document_order) for n in names}
    policy = AccessPolicy(
        {s.name: s.access for s in ctx.config.sources},
        {
            name: {d.id: d.access_groups for d in docs if d.access_groups is not None}
            for name, docs in documents.items()
        },
    )
    settings: dict[str, Any] = {
        "bm25": ctx.config.index.bm25.model_dump(mode="json"),
        "graph": ctx.config.index.graph.model_dump(mode="json"),
        "store": ctx.config.index.qdrant.backend,
        # Part of the content hash: changing who may read a source makes a new version.
        "access": policy.to_settings(),
        # The manifest freezes how the version retrieves (fusion, rerank) and the check tunes
        # it: a change there is a new version the gate judges, not a silently reused old one.
        "retrieval": ctx.config.retrieval.model_dump(mode="json"),
        "tuning": ctx.config.evaluation.model_dump(
            mode="json", include={"tune_fusion", "tune_fusion_method", "learn_query_weights"}
        ),
    }
    if policy.documents_to_settings():
        settings[DOCUMENT_GROUPS] = policy.documents_to_settings()
    content_hash = sha256_text(
        model_state.fingerprint.key,
        repr(sorted(settings.items())),
        *sorted(f"{c.source}:{c.id}:{c.text_hash}" for cs in chunks.values() for c in cs),
    )
    registry = ctx.registry
    versions = registry.versions()
    if versions and registry.manifest(versions[-1]).content_hash == content_hash:
        registry.fetch(versions[-1])  # built on another machine: its files into this cache
        return SnapshotReport(load_snapshot(ctx, versions[-1]), True, time.perf_counter() - started)

    version = registry.allocate()
    folder = registry.build_path(version)
    write_jsonl(folder / CHUNKS, (c for cs in chunks.values() for c in cs))
    write_jsonl(folder / DOCUMENTS, (d for ds in documents.values() for d in ds))
    snapshot = Snapshot(
        version=version,
        pipeline=ctx.config.pipeline.name,
        created_at=utc_now(),
        model_ref=model_state.model_ref,
        model=model_state.fingerprint,
        sources={name: _summary(ctx, name, chunks[name], documents[name]) for name in chunks},
        documents=sum(len(ds) for ds in documents.values()),
        chunks=sum(len(cs) for cs in chunks.values()),
        content_hash=content_hash,
        settings=settings,
    )
    atomic_write_text(folder / SNAPSHOT, snapshot.model_dump_json(indent=2))
    crash_point("snapshot_written")
    return SnapshotReport(snapshot, False, time.perf_counter() - started)


def load_snapshot(ctx: PipelineContext, version: str) -> Snapshot:
    """The snapshot record of a version."""
    path = ctx.registry.build_path(version) / SNAPSHOT
    return Snapshot.model_validate_json(path.read_text(encoding="utf-8"))


def snapshot_chunks(ctx: PipelineContext, version: str) -> list[Chunk]:
    """The chunks frozen into a version."""
    return list(iter_jsonl(ctx.registry.build_path(version) / CHUNKS, Chunk))


def snapshot_documents(ctx: PipelineContext, version: str) -> list[Document]:
    """The documents frozen into a version."""
    return list(iter_jsonl(ctx.registry.build_path(version) / DOCUMENTS, Document))


def _embedding_states(ctx: PipelineContext) -> dict[Shard, EmbeddingState]:
    states: dict[Shard, EmbeddingState] = {}
    for source in ctx.config.sources:
        for shard in ctx.shards(source.name):
            state = load_embedding_state(ctx, shard)
            if state is None:
                what = f"source {source.name!r}" + (
                    f" (partition {shard.key!r})" if shard.count > 1 else ""
                )
                raise StaleEmbeddings(f"{what} has no embeddings yet; materialize it first")
            states[shard] = state
    keys = {s.fingerprint.key for s in states.values()}
    if len(keys) > 1:
        detail = ", ".join(f"{n.key}: {s.fingerprint.key}" for n, s in states.items())
        raise StaleEmbeddings(
            f"sources were embedded with different models ({detail}); re-embed them"
        )
    return states


def _check_fresh(ctx: PipelineContext, states: dict[Shard, EmbeddingState]) -> None:
    for shard, state in states.items():
        current = sha256_text(*sorted(c.text_hash for c in shard_chunks(ctx, shard)))
        if current != state.chunks_hash:
            raise StaleEmbeddings(
                f"source {shard.key!r} was re-chunked after it was embedded; "
                "materialize its embeddings"
            )


def _summary(
    ctx: PipelineContext, name: str, chunks: list[Chunk], documents: list[Document]
) -> SourceSummary:
    settings = ctx.config.chunking_for(ctx.config.source(name))
    return SourceSummary(
        documents=len(documents),
        chunks=len(chunks),
        failures=len(load_failures(ctx, name)),
        content_hash=sha256_text(*sorted(f"{d.id}:{d.content_hash}" for d in documents)),
        chunking=settings.model_dump(),
        chunker=chunks[0].chunker if chunks else "",
    )

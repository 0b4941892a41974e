"""Stage 4: build a new, immutable index version from every source's chunks and vectors."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.embedding.cache import EmbeddingCache
from rag_pipelines.errors import RagPipelinesError
from rag_pipelines.hashing import sha256_text
from rag_pipelines.index.manifest import BuildManifest, SourceSummary
from rag_pipelines.index.stores import collection_name
from rag_pipelines.index.vector_store import VectorPoint, VectorStore
from rag_pipelines.index.versions import utc_now
from rag_pipelines.pipeline.chunks import load_chunks
from rag_pipelines.pipeline.context import PipelineContext
from rag_pipelines.pipeline.documents import load_documents, load_failures
from rag_pipelines.pipeline.embeddings import EmbeddingState, load_embedding_state

Progress = Callable[[int, int], None]
_UPSERT_BATCH = 1024


class StaleEmbeddings(RagPipelinesError):
    """A source's chunks were not embedded with the current model (re-run its embeddings)."""


@dataclass
class BuildReport:
    """The outcome of a build: a new version, or the unchanged latest one reused."""

    manifest: BuildManifest
    reused: bool
    seconds: float


def build_index(
    ctx: PipelineContext, store: VectorStore, progress: Progress | None = None
) -> BuildReport:
    """Snapshot every source into a new version; reuse the latest if nothing changed."""
    started = time.perf_counter()
    states = _embedding_states(ctx)
    model_state = next(iter(states.values()))
    chunks = {s.name: load_chunks(ctx, s.name) for s in ctx.config.sources}
    _check_fresh(states, chunks)
    content_hash = sha256_text(
        model_state.fingerprint.key,
        *sorted(f"{c.id}:{c.text_hash}" for cs in chunks.values() for c in cs),
    )
    registry = ctx.registry
    latest = registry.versions()[-1:] if registry.versions() else []
    if latest:
        previous = registry.manifest(latest[0])
        if previous.content_hash == content_hash and previous.collection in store.collections():
            return BuildReport(
                manifest=previous, reused=True, seconds=time.perf_counter() - started
            )

    version = registry.allocate()
    collection = collection_name(ctx.config.index.qdrant, ctx.config.pipeline.name, version)
    all_chunks = [c for cs in chunks.values() for c in cs]
    cache = EmbeddingCache(ctx.workspace.embedding_cache_path)
    try:
        store.create_collection(collection, model_state.fingerprint.dimension)
        for i in range(0, len(all_chunks), _UPSERT_BATCH):
            batch = all_chunks[i : i + _UPSERT_BATCH]
            vectors = cache.get(model_state.fingerprint.key, (c.text_hash for c in batch))
            missing = [c.id for c in batch if c.text_hash not in vectors]
            if missing:
                raise StaleEmbeddings(
                    f"{len(missing)} chunk(s) have no cached vector (e.g. {missing[0]}); "
                    "materialize embeddings again"
                )
            store.upsert(collection, [_point(ctx, c, vectors[c.text_hash], version) for c in batch])
            if progress is not None:
                progress(i + len(batch), len(all_chunks))
        store.finalize(collection)
        vector_count = store.count(collection)
    finally:
        cache.close()

    manifest = BuildManifest(
        version=version,
        pipeline=ctx.config.pipeline.name,
        created_at=utc_now(),
        build_seconds=round(time.perf_counter() - started, 3),
        store_kind=store.kind,
        collection=collection,
        model_ref=model_state.model_ref,
        model=model_state.fingerprint,
        sources={name: _summary(ctx, name, cs) for name, cs in chunks.items()},
        documents=sum(len(load_documents(ctx, s.name)) for s in ctx.config.sources),
        chunks=len(all_chunks),
        vectors=vector_count,
        content_hash=content_hash,
    )
    registry.complete(manifest)
    return BuildReport(manifest=manifest, reused=False, seconds=time.perf_counter() - started)


def _embedding_states(ctx: PipelineContext) -> dict[str, EmbeddingState]:
    states: dict[str, EmbeddingState] = {}
    for source in ctx.config.sources:
        state = load_embedding_state(ctx, source.name)
        if state is None:
            raise StaleEmbeddings(
                f"source {source.name!r} has no embeddings yet; materialize it first"
            )
        states[source.name] = state
    keys = {s.fingerprint.key for s in states.values()}
    if len(keys) > 1:
        detail = ", ".join(f"{n}: {s.fingerprint.key}" for n, s in states.items())
        raise StaleEmbeddings(
            f"sources were embedded with different models ({detail}); re-embed them"
        )
    return states


def _check_fresh(states: dict[str, EmbeddingState], chunks: dict[str, list[Chunk]]) -> None:
    for name, state in states.items():
        current = sha256_text(*sorted(c.text_hash for c in chunks[name]))
        if current != state.chunks_hash:
            raise StaleEmbeddings(
                f"source {name!r} was re-chunked after it was embedded; materialize its embeddings"
            )


def _point(ctx: PipelineContext, chunk: Chunk, vector: np.ndarray, version: str) -> VectorPoint:
    source = ctx.config.source(chunk.source)
    payload = {
        "chunk_id": chunk.id,
        "source": chunk.source,
        "document_id": chunk.document_id,
        "document_uri": chunk.document_uri,
        "document_hash": chunk.document_hash,
        "document_modified_at": chunk.document_modified_at,
        "title": chunk.title,
        "section": chunk.section,
        "pages": chunk.pages,
        "ordinal": chunk.ordinal,
        "text": chunk.text,
        "text_hash": chunk.text_hash,
        "token_count": chunk.token_count,
        "chunker": chunk.chunker,
        "owner": source.owner,
        "tags": list(source.tags),
        "metadata": dict(source.metadata),
        "index_version": version,
    }
    return VectorPoint(id=chunk.id, vector=vector, payload=payload)


def _summary(ctx: PipelineContext, name: str, chunks: list[Chunk]) -> SourceSummary:
    documents = load_documents(ctx, name)
    settings = ctx.config.chunking_for(ctx.config.source(name))
    return SourceSummary(
        documents=len(documents),
        chunks=len(chunks),
        failures=len(load_failures(ctx, name)),
        content_hash=sha256_text(*sorted(f"{d.id}:{d.content_hash}" for d in documents)),
        chunking=settings.model_dump(),
        chunker=chunks[0].chunker if chunks else "",
    )

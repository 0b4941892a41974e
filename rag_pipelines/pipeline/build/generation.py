"""Stage 5 with `versioning: generation`: write only what changed into the generation's collections.

A generation is one dense collection per (model, chunker settings) and one BM25 collection per
(tokenizer and BM25 parameters, chunker settings, frozen avgdl). A version gets the next sequence
number; building it upserts the points whose key (chunk id + hash of what the point holds) the
newest version lacks and closes (valid_to = this sequence) the points it no longer holds.
Anything a crashed or removed build wrote is undone first (GenerationWriter.repair). A change
of model, chunker or BM25 settings, or avgdl drifting past `generation_avgdl_drift`, starts a
new generation: a fresh collection written in full, as copy-per-version would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.cache import EmbeddingCache
from rag_pipelines.faults import crash_point
from rag_pipelines.hashing import sha256_text
from rag_pipelines.index.access import AccessPolicy
from rag_pipelines.index.bm25 import Bm25Model
from rag_pipelines.index.bm25_access import Bm25AccessStats
from rag_pipelines.index.bm25_generation import GenerationVocab, remap, tf_vector, within_drift
from rag_pipelines.index.bm25_tokenizer import Bm25Tokenizer
from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.generation_store import GenerationWriter, point_id, point_key, stamped
from rag_pipelines.index.generation_view import GenerationView
from rag_pipelines.index.layout import BM25_ACCESS, BM25_MODEL, GENERATION_SEQUENCE
from rag_pipelines.index.manifest import BuildManifest
from rag_pipelines.index.stores import collection_name
from rag_pipelines.index.vector_store import SparseVector, VectorPoint, VectorStore
from rag_pipelines.pipeline.build.payload import chunk_payload
from rag_pipelines.pipeline.build.snapshot import (
    Snapshot,
    StaleEmbeddings,
    load_snapshot,
    snapshot_chunks,
)
from rag_pipelines.storage import atomic_write_json, read_json

_BATCH = 1024
DENSE_SUFFIX = "_gen"
BM25_SUFFIX = "_gen_bm25"


@dataclass
class GenerationWrite:
    """What building one version's part wrote into its generation collection."""

    collection: str
    items: int  # points of this version
    details: dict[str, Any]


def version_sequence(ctx: PipelineContext, version: str) -> int:
    """The version's sequence number: one more than any complete version's (kept in its folder)."""
    path = ctx.registry.build_path(version) / GENERATION_SEQUENCE
    if path.exists():
        return int(read_json(path)["sequence"])
    sequence = 1 + max((_seq(m) for m in generation_manifests(ctx)), default=0)
    atomic_write_json(path, {"sequence": sequence})
    return sequence


def generation_manifests(ctx: PipelineContext) -> list[BuildManifest]:
    """Complete versions built into generations, by sequence number."""
    manifests = [ctx.registry.manifest(v) for v in ctx.registry.versions()]
    return sorted((m for m in manifests if m.generation is not None), key=_seq)


def _seq(manifest: BuildManifest) -> int:
    assert manifest.generation is not None
    return manifest.generation.sequence


def _chunkers(snapshot: Snapshot) -> str:
    """The distinct chunker settings in use (adding a source like the others changes nothing)."""
    return json.dumps(
        sorted({json.dumps(s.chunking, sort_keys=True) for s in snapshot.sources.values()})
    )


def _open(
    ctx: PipelineContext,
    store: VectorStore,
    collection_of: Callable[[BuildManifest], str],
    accept: Callable[[BuildManifest], bool],
    new_name: str,
) -> tuple[GenerationWriter, bool]:
    """The writer of the current generation, repaired to its newest version; or of a new one."""
    if not isinstance(store, ClientVectorStore):
        raise TypeError(f"versioning: generation needs a qdrant-client store, not {store.kind!r}")
    manifests = generation_manifests(ctx)
    for manifest in reversed(manifests):
        name = collection_of(manifest)
        writer = GenerationWriter(store, name)
        if accept(manifest) and writer.exists():
            writer.repair(max(_seq(m) for m in manifests if collection_of(m) == name))
            return writer, False
    return GenerationWriter(store, new_name), True


def _sync(
    writer: GenerationWriter,
    fresh: bool,
    sequence: int,
    desired: dict[str, tuple[Chunk, dict[str, Any]]],
    points: Callable[[list[tuple[str, Chunk, dict[str, Any]]]], list[VectorPoint]],
) -> dict[str, int]:
    """Upsert the points the newest version lacks, close those it holds and this one does not."""
    opened = {} if fresh else writer.open_points()
    new = [(key, chunk, payload) for key, (chunk, payload) in desired.items() if key not in opened]
    for i in range(0, len(new), _BATCH):
        writer.store.upsert(writer.name, points(new[i : i + _BATCH]))
    closed = writer.close((pid for key, pid in opened.items() if key not in desired), sequence)
    return {"upserted": len(new), "closed": closed, "kept": len(desired) - len(new)}


def _payloads(
    ctx: PipelineContext, snapshot: Snapshot, chunks: list[Chunk], version: str
) -> list[dict[str, Any]]:
    access = AccessPolicy.from_settings(snapshot.settings)
    return [
        chunk_payload(
            c,
            ctx.config.source(c.source),
            version,
            snapshot.model.key,
            access.groups_of(c.source, c.document_id),
        )
        for c in chunks
    ]


def _visible(writer: GenerationWriter, version: str, sequence: int) -> int:
    writer.store.finalize(writer.name)
    return GenerationView(writer.store, version, sequence, None).count(writer.name)


def write_vector_generation(
    ctx: PipelineContext, version: str, store: VectorStore
) -> GenerationWrite:
    """The version's dense points in its generation: only new or changed chunks are upserted."""
    snapshot = load_snapshot(ctx, version)
    chunks = snapshot_chunks(ctx, version)
    sequence = version_sequence(ctx, version)
    key = sha256_text(snapshot.model.key, str(snapshot.model.dimension), _chunkers(snapshot))
    writer, fresh = _open(
        ctx,
        store,
        lambda m: m.collection,
        lambda m: m.generation is not None and m.generation.dense_key == key,
        collection_name(ctx.config.index.qdrant, snapshot.pipeline, version) + DENSE_SUFFIX,
    )
    if fresh:
        writer.create(snapshot.model.dimension)
    desired = {
        point_key(p): (c, p)
        for c, p in zip(chunks, _payloads(ctx, snapshot, chunks, version), strict=True)
    }
    cache = EmbeddingCache(ctx.workspace.embedding_cache_path)

    def points(batch: list[tuple[str, Chunk, dict[str, Any]]]) -> list[VectorPoint]:
        vectors = cache.get(snapshot.model.key, (c.text_hash for _, c, _ in batch))
        missing = [c.id for _, c, _ in batch if c.text_hash not in vectors]
        if missing:
            raise StaleEmbeddings(
                f"{len(missing)} chunk(s) have no cached vector (e.g. {missing[0]}); "
                "materialize embeddings again"
            )
        return [
            VectorPoint(point_id(k, sequence), vectors[c.text_hash], stamped(p, k, sequence))
            for k, c, p in batch
        ]

    try:
        counts = _sync(writer, fresh, sequence, desired, points)
    finally:
        cache.close()
    crash_point("vector_index_partial")
    items = _visible(writer, version, sequence)
    details = {"sequence": sequence, "generation_key": key, "new_generation": fresh, **counts}
    return GenerationWrite(writer.name, items, details)


def write_bm25_generation(
    ctx: PipelineContext, version: str, store: VectorStore
) -> GenerationWrite:
    """The version's BM25 statistics (exact idf) and only new or changed tf-part points."""
    snapshot = load_snapshot(ctx, version)
    chunks = snapshot_chunks(ctx, version)
    sequence = version_sequence(ctx, version)
    settings = ctx.config.index.bm25
    drift = ctx.config.index.qdrant.generation_avgdl_drift
    tokenize = Bm25Tokenizer(settings)
    terms = [tokenize(c.embed_text) for c in chunks]
    fitted = Bm25Model.fit(terms, settings.k1, settings.b, settings.epsilon)
    key = sha256_text(  # the model too: every payload names it, so all points would change
        json.dumps(settings.model_dump(mode="json"), sort_keys=True),
        _chunkers(snapshot),
        snapshot.model.key,
    )
    writer, fresh = _open(
        ctx,
        store,
        lambda m: m.bm25_collection,
        lambda m: (
            m.generation is not None
            and m.generation.bm25_key == key
            and within_drift(fitted.avgdl, m.generation.bm25_avgdl, settings.b, drift)
        ),
        collection_name(ctx.config.index.qdrant, snapshot.pipeline, version) + BM25_SUFFIX,
    )
    vocab_path = ctx.workspace.generations_dir / f"{writer.name}.json"
    vocab = GenerationVocab(fitted.avgdl) if fresh else GenerationVocab.load(vocab_path)
    vocab.extend(list(fitted.vocab))
    vocab.save(vocab_path)
    if fresh:
        writer.create(None, sparse=True)
    build_dir = ctx.registry.build_path(version)
    model = remap(fitted, vocab)
    model.save(build_dir / BM25_MODEL, settings.model_dump(mode="json"))
    access = AccessPolicy.from_settings(snapshot.settings)
    classes = [access.groups_of(c.source, c.document_id) for c in chunks]
    Bm25AccessStats.fit(model, terms, classes).save(build_dir / BM25_ACCESS)
    terms_of = {c.id: t for c, t in zip(chunks, terms, strict=True)}
    desired = {
        point_key(p): (c, p)
        for c, p in zip(chunks, _payloads(ctx, snapshot, chunks, version), strict=True)
    }

    def points(batch: list[tuple[str, Chunk, dict[str, Any]]]) -> list[VectorPoint]:
        out = []
        for k, c, p in batch:
            indices, values = tf_vector(terms_of[c.id], vocab, settings.k1, settings.b)
            out.append(
                VectorPoint(
                    point_id(k, sequence),
                    None,
                    stamped(p, k, sequence),
                    SparseVector(indices, values),
                )
            )
        return out

    counts = _sync(writer, fresh, sequence, desired, points)
    items = _visible(writer, version, sequence)
    details = {
        "terms": len(fitted.vocab),
        "avgdl": round(fitted.avgdl, 2),
        "sequence": sequence,
        "generation_key": key,
        "generation_avgdl": vocab.avgdl,
        "new_generation": fresh,
        **counts,
    }
    return GenerationWrite(writer.name, items, details)

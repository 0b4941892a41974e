"""Stage 5: the three indexes of a version, each built from its snapshot.

- dense vectors in Qdrant (vectors from the embedding cache),
- BM25 as precomputed sparse vectors in Qdrant (see index/bm25.py),
- the networkx knowledge graph, saved as versioned JSON.
Each writes a small `parts/<name>.json` record; a part that exists is not rebuilt, which makes
re-running a step idempotent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from rag_pipelines.context import PipelineContext
from rag_pipelines.faults import crash_point
from rag_pipelines.index.access import AccessPolicy
from rag_pipelines.index.bm25 import Bm25Model
from rag_pipelines.index.bm25_access import Bm25AccessStats
from rag_pipelines.index.bm25_tokenizer import Bm25Tokenizer
from rag_pipelines.index.graph_build import build_graph
from rag_pipelines.index.graph_store import save_graph
from rag_pipelines.index.layout import BM25_ACCESS, BM25_MODEL, GRAPH
from rag_pipelines.index.stores import collection_name
from rag_pipelines.index.vector_store import SparseVector, VectorPoint, VectorStore
from rag_pipelines.pipeline.build.generation import (
    GenerationWrite,
    write_bm25_generation,
    write_vector_generation,
)
from rag_pipelines.pipeline.build.payload import chunk_payload
from rag_pipelines.pipeline.build.snapshot import (
    StaleEmbeddings,
    load_snapshot,
    snapshot_chunks,
    snapshot_documents,
)
from rag_pipelines.storage import atomic_write_text

_BATCH = 1024


class PartRecord(BaseModel):
    """What one index of a version holds."""

    name: str
    items: int
    seconds: float
    collection: str | None = None
    details: dict[str, Any] = {}


def load_part(ctx: PipelineContext, version: str, name: str) -> PartRecord | None:
    """The record of a built index part, if it was built."""
    path = ctx.registry.build_path(version) / "parts" / f"{name}.json"
    if not path.exists():
        return None
    return PartRecord.model_validate_json(path.read_text(encoding="utf-8"))


def _save_part(ctx: PipelineContext, version: str, record: PartRecord) -> PartRecord:
    path = ctx.registry.build_path(version) / "parts" / f"{record.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, record.model_dump_json(indent=2))
    return record


def _once(
    ctx: PipelineContext, version: str, name: str, build: Callable[[], PartRecord]
) -> PartRecord:
    existing = load_part(ctx, version, name)
    return existing if existing is not None else _save_part(ctx, version, build())


def _generation_part(name: str, written: GenerationWrite, started: float) -> PartRecord:
    """A part written into generation collections (pipeline/build/generation.py)."""
    return PartRecord(
        name=name,
        items=written.items,
        seconds=time.perf_counter() - started,
        collection=written.collection,
        details=written.details,
    )


def build_vector_index(ctx: PipelineContext, version: str, store: VectorStore) -> PartRecord:
    """Dense vectors of every chunk of the version, with payloads, in a Qdrant collection."""

    def build() -> PartRecord:
        started = time.perf_counter()
        if ctx.config.index.qdrant.versioning == "generation":
            return _generation_part("vector", write_vector_generation(ctx, version, store), started)
        snapshot = load_snapshot(ctx, version)
        chunks = snapshot_chunks(ctx, version)
        name = collection_name(ctx.config.index.qdrant, snapshot.pipeline, version)
        key = snapshot.model.key
        access = AccessPolicy.from_settings(snapshot.settings)
        cache = ctx.embedding_cache()
        try:
            store.create_collection(name, snapshot.model.dimension)
            for i in range(0, len(chunks), _BATCH):
                batch = chunks[i : i + _BATCH]
                vectors = cache.get(key, (c.text_hash for c in batch))
                missing = [c.id for c in batch if c.text_hash not in vectors]
                if missing:
                    raise StaleEmbeddings(
                        f"{len(missing)} chunk(s) have no cached vector (e.g. {missing[0]}); "
                        "materialize embeddings again"
                    )
                store.upsert(
                    name,
                    [
                        VectorPoint(
                            c.id,
                            vectors[c.text_hash],
                            chunk_payload(
                                c,
                                ctx.config.source(c.source),
                                version,
                                key,
                                access.groups_of(c.source, c.document_id),
                            ),
                        )
                        for c in batch
                    ],
                )
            crash_point("vector_index_partial")
            store.finalize(name)
            count = store.count(name)
        finally:
            cache.close()
        return PartRecord(
            name="vector", items=count, seconds=time.perf_counter() - started, collection=name
        )

    return _once(ctx, version, "vector", build)


def build_bm25_index(ctx: PipelineContext, version: str, store: VectorStore) -> PartRecord:
    """BM25 statistics of the version and one sparse vector per chunk in Qdrant."""

    def build() -> PartRecord:
        started = time.perf_counter()
        if ctx.config.index.qdrant.versioning == "generation":
            return _generation_part("bm25", write_bm25_generation(ctx, version, store), started)
        snapshot = load_snapshot(ctx, version)
        chunks = snapshot_chunks(ctx, version)
        settings = ctx.config.index.bm25
        tokenize = Bm25Tokenizer(settings)
        access = AccessPolicy.from_settings(snapshot.settings)
        terms = [tokenize(c.embed_text) for c in chunks]
        model = Bm25Model.fit(terms, settings.k1, settings.b, settings.epsilon)
        model.save(ctx.registry.build_path(version) / BM25_MODEL, settings.model_dump(mode="json"))
        classes = [access.groups_of(c.source, c.document_id) for c in chunks]
        stats = Bm25AccessStats.fit(model, terms, classes)
        stats.save(ctx.registry.build_path(version) / BM25_ACCESS)
        name = collection_name(ctx.config.index.qdrant, snapshot.pipeline, version) + "_bm25"
        store.create_collection(name, None, sparse=True)
        for i in range(0, len(chunks), _BATCH):
            points = []
            for chunk, chunk_terms in zip(
                chunks[i : i + _BATCH], terms[i : i + _BATCH], strict=True
            ):
                indices, values = model.document_vector(chunk_terms)
                payload = chunk_payload(
                    chunk,
                    ctx.config.source(chunk.source),
                    version,
                    snapshot.model.key,
                    access.groups_of(chunk.source, chunk.document_id),
                )
                points.append(VectorPoint(chunk.id, None, payload, SparseVector(indices, values)))
            store.upsert(name, points)
        store.finalize(name)
        return PartRecord(
            name="bm25",
            items=store.count(name),
            seconds=time.perf_counter() - started,
            collection=name,
            details={"terms": len(model.vocab), "avgdl": round(model.avgdl, 2)},
        )

    return _once(ctx, version, "bm25", build)


def build_graph_index(ctx: PipelineContext, version: str) -> PartRecord:
    """The knowledge graph of the version (documents, chunks, key phrases, links)."""

    def build() -> PartRecord:
        started = time.perf_counter()
        chunks = snapshot_chunks(ctx, version)
        links = {(d.source, d.id): d.links for d in snapshot_documents(ctx, version) if d.links}
        access = AccessPolicy.from_settings(load_snapshot(ctx, version).settings)
        graph = build_graph(chunks, links, ctx.config.index.graph, access.groups_of)
        save_graph(graph, ctx.registry.build_path(version) / GRAPH)
        kinds: dict[str, int] = {}
        for _, data in graph.nodes(data=True):
            kinds[data["kind"]] = kinds.get(data["kind"], 0) + 1
        edge_kinds: dict[str, int] = {}
        for _, _, data in graph.edges(data=True):
            edge_kinds[data["kind"]] = edge_kinds.get(data["kind"], 0) + 1
        return PartRecord(
            name="graph",
            items=kinds.get("chunk", 0),
            seconds=time.perf_counter() - started,
            details={
                "nodes": graph.number_of_nodes(),
                "edges": graph.number_of_edges(),
                "node_kinds": kinds,
                "edge_kinds": edge_kinds,
            },
        )

    return _once(ctx, version, "graph", build)

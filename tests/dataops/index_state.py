"""Read back what an index version holds, in every index, and query any version."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.graph_build import chunk_node, doc_node
from rag_pipelines.index.graph_store import load_networkx
from rag_pipelines.index.layout import GRAPH
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.ingest.models import Document
from rag_pipelines.pipeline.build.snapshot import snapshot_chunks, snapshot_documents
from rag_pipelines.retrieval.live import LiveIndex
from rag_pipelines.retrieval.models import Mode, SearchResponse
from rag_pipelines.retrieval.open import open_version

MODES: tuple[Mode, ...] = ("dense", "bm25", "graph", "hybrid")
EVERYTHING = 50  # more than the corpus has chunks: a search returns every candidate it has


@dataclass
class VersionContents:
    """One version's chunks and documents, and what each index holds."""

    version: str
    chunks: list[Chunk]
    documents: list[Document]
    dense_count: int
    bm25_count: int
    dense_ids: set[str]
    bm25_ids: set[str]
    graph: nx.Graph

    @property
    def chunk_ids(self) -> set[str]:
        """Ids of the version's chunks."""
        return {c.id for c in self.chunks}

    @property
    def document_keys(self) -> set[tuple[str, str]]:
        """(source, id) of the version's documents."""
        return {(d.source, d.id) for d in self.documents}

    def graph_nodes(self, kind: str) -> set[str]:
        """Graph nodes of one kind (chunk, document, phrase)."""
        return {n for n, data in self.graph.nodes(data=True) if data.get("kind") == kind}

    def chunks_of(self, source: str, document_id: str) -> list[Chunk]:
        """The version's chunks of one document."""
        return [c for c in self.chunks if (c.source, c.document_id) == (source, document_id)]


def read_version(ctx: PipelineContext, version: str, store: VectorStore) -> VersionContents:
    """Everything a version holds, read from its snapshot, both Qdrant shards and the graph."""
    manifest = ctx.registry.manifest(version)
    chunks = snapshot_chunks(ctx, version)
    ids = [c.id for c in chunks]
    return VersionContents(
        version=version,
        chunks=chunks,
        documents=snapshot_documents(ctx, version),
        dense_count=store.count(manifest.collection),
        bm25_count=store.count(manifest.bm25_collection),
        dense_ids=set(store.retrieve(manifest.collection, ids)),
        bm25_ids=set(store.retrieve(manifest.bm25_collection, ids)),
        graph=load_networkx(ctx.registry.build_path(version) / GRAPH),
    )


def assert_consistent(contents: VersionContents) -> None:
    """No duplicate chunk, no orphan chunk, and all three indexes hold exactly the same chunks."""
    ids = [c.id for c in contents.chunks]
    assert len(ids) == len(set(ids)), "duplicate chunk ids"
    keys = [(d.source, d.id) for d in contents.documents]
    assert len(keys) == len(set(keys)), "duplicate documents"
    orphans = [c.id for c in contents.chunks if (c.source, c.document_id) not in set(keys)]
    assert not orphans, f"chunks without a document: {orphans}"
    assert {(c.source, c.document_id) for c in contents.chunks} == set(keys)
    assert contents.dense_count == contents.bm25_count == len(ids)
    assert contents.dense_ids == contents.bm25_ids == set(ids)
    assert contents.graph_nodes("chunk") == {chunk_node(i) for i in ids}
    assert contents.graph_nodes("document") == {doc_node(s, d) for s, d in keys}


def search_version(
    ctx: PipelineContext, store: VectorStore, version: str, query: str, mode: Mode
) -> SearchResponse:
    """Query any complete version the way the service loads it."""
    index = open_version(ctx, version, store)
    try:
        return index.search(query, EVERYTHING, mode, False)
    finally:
        index.close()


def search_live(
    ctx: PipelineContext, query: str, mode: Mode, top_k: int = EVERYTHING
) -> SearchResponse:
    """Query the published version through LiveIndex (what the service does)."""
    live = LiveIndex(ctx)
    try:
        with live.acquire() as index:
            return index.search(query, top_k, mode, False)
    finally:
        live.stop()

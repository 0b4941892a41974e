"""Index fixtures: real SciFact chunks embedded once, loaded into both vector stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag_pipelines.chunking import Chunker
from rag_pipelines.config.models import ChunkingSettings
from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.edge_store import EdgeVectorStore
from rag_pipelines.index.vector_store import VectorPoint
from tests.chunking.documents import scifact_documents
from tests.index.corpus import COLLECTION, EmbeddedCorpus, payload


@pytest.fixture(scope="session")
def corpus(scifact_dir: Path, minilm: Any) -> EmbeddedCorpus:
    """The first 64-token chunk of 300 SciFact abstracts and 20 SciFact claims, embedded."""
    chunker = Chunker(ChunkingSettings(chunk_size=64, chunk_overlap=0), minilm.tokenizer)
    chunks = [chunker.chunk(d)[0] for d in scifact_documents(scifact_dir, 300)]
    vectors = minilm.encode([c.embed_text for c in chunks])
    points = [
        VectorPoint(id=c.id, vector=v, payload=payload(c.id, i, c.text))
        for i, (c, v) in enumerate(zip(chunks, vectors, strict=True))
    ]
    with (scifact_dir / "queries.jsonl").open(encoding="utf-8") as handle:
        claims = [json.loads(line)["text"] for _, line in zip(range(20), handle, strict=False)]
    return EmbeddedCorpus(points=points, queries=minilm.encode(claims))


@pytest.fixture(scope="session")
def stores(
    corpus: EmbeddedCorpus, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ClientVectorStore, EdgeVectorStore]]:
    """qdrant-client local mode and Qdrant Edge holding the same finalized collection."""
    root = tmp_path_factory.mktemp("stores")
    client, edge = ClientVectorStore.local(str(root / "local")), EdgeVectorStore(root / "edge")
    for store in (client, edge):
        store.create_collection(COLLECTION, 384)
        store.upsert(COLLECTION, corpus.points)
        store.finalize(COLLECTION)
    yield client, edge
    client.close()
    edge.close()

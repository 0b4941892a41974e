"""Hybrid-index fixtures: a SciFact BM25 sample, and Qdrant Edge holding its sparse vectors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag_pipelines.index.edge_store import EdgeVectorStore
from tests.indexes_hybrid.sparse_corpus import COLLECTION, SparseCorpus, load_sparse_corpus

SAMPLE_SIZE = 3000


@pytest.fixture(scope="session")
def sparse_corpus(scifact_dir: Path) -> SparseCorpus:
    """3000 SciFact abstracts tokenized with the default settings and fitted both ways."""
    return load_sparse_corpus(scifact_dir, SAMPLE_SIZE)


@pytest.fixture(scope="session")
def edge_bm25(
    sparse_corpus: SparseCorpus, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EdgeVectorStore]:
    """A finalized Qdrant Edge shard holding the sample's BM25 sparse vectors."""
    store = EdgeVectorStore(tmp_path_factory.mktemp("edge-bm25"))
    store.create_collection(COLLECTION, None, sparse=True)
    store.upsert(COLLECTION, sparse_corpus.points)
    store.finalize(COLLECTION)
    yield store
    store.close()

"""The same BM25 sparse vectors in Qdrant Edge and in qdrant-client local mode rank alike."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from qdrant_client import QdrantClient

from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.edge_store import EdgeVectorStore
from rag_pipelines.index.vector_store import SparseVector
from tests.indexes_hybrid.sparse_corpus import COLLECTION, SparseCorpus

QUERIES = 50


@pytest.fixture(scope="module")
def local_bm25(sparse_corpus: SparseCorpus) -> Iterator[ClientVectorStore]:
    """qdrant-client local mode holding the sample's BM25 sparse vectors.

    In memory: the same local engine as `ClientVectorStore.local(path)`, without its per-point
    SQLite writes (28 s for these 3000 points on disk, under 2 s in memory).
    """
    store = ClientVectorStore(QdrantClient(location=":memory:"))
    store.create_collection(COLLECTION, None, sparse=True)
    store.upsert(COLLECTION, sparse_corpus.points)
    yield store
    store.close()


def test_both_stores_hold_every_point(
    sparse_corpus: SparseCorpus, edge_bm25: EdgeVectorStore, local_bm25: ClientVectorStore
) -> None:
    """Both stores count all 3000 sparse points."""
    assert edge_bm25.count(COLLECTION) == local_bm25.count(COLLECTION) == len(sparse_corpus.points)


def test_same_top10_for_scifact_claims(
    sparse_corpus: SparseCorpus, edge_bm25: EdgeVectorStore, local_bm25: ClientVectorStore
) -> None:
    """For 50 real claims both stores return the same top 10, in order, with equal scores."""
    matrix = sparse_corpus.matrix
    for query_id in list(sparse_corpus.queries)[:QUERIES]:
        terms = sparse_corpus.query_terms(query_id)
        vector = SparseVector(*sparse_corpus.model.query_vector(terms))
        from_edge = edge_bm25.search_sparse(COLLECTION, vector, 10)
        from_local = local_bm25.search_sparse(COLLECTION, vector, 10)
        assert len(from_edge) == 10
        assert [h.chunk_id for h in from_edge] == [h.chunk_id for h in from_local]
        scores = np.array([h.score for h in from_edge])
        np.testing.assert_allclose(scores, [h.score for h in from_local], rtol=1e-5)
        exact = np.sort(matrix @ sparse_corpus.dense_query(terms))[::-1][:10]
        np.testing.assert_allclose(scores, exact, rtol=1e-4)


@pytest.mark.parametrize("terms", [[], ["zzzunknownterm"]], ids=["empty", "unknown-only"])
def test_query_without_known_terms_finds_nothing(
    sparse_corpus: SparseCorpus,
    edge_bm25: EdgeVectorStore,
    local_bm25: ClientVectorStore,
    terms: list[str],
) -> None:
    """A query with no term in the vocabulary has no hits in either store (and raises nothing)."""
    vector = SparseVector(*sparse_corpus.model.query_vector(terms))
    assert vector.indices == []
    assert edge_bm25.search_sparse(COLLECTION, vector, 10) == []
    assert local_bm25.search_sparse(COLLECTION, vector, 10) == []

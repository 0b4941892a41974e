"""The qdrant-client path and the Qdrant Edge path return the same neighbours."""

from __future__ import annotations

import numpy as np

from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.edge_store import EdgeVectorStore
from tests.index.corpus import COLLECTION, EmbeddedCorpus


def brute_force(corpus: EmbeddedCorpus, query: np.ndarray, k: int) -> list[str]:
    """Exact cosine top-k (vectors are unit length, so a dot product) as the oracle."""
    scores = corpus.matrix @ query
    return [corpus.points[i].id for i in np.argsort(-scores, kind="stable")[:k]]


def test_both_stores_hold_every_point(
    stores: tuple[ClientVectorStore, EdgeVectorStore], corpus: EmbeddedCorpus
) -> None:
    """Both stores count all 300 points under the same collection name."""
    client, edge = stores
    assert client.count(COLLECTION) == edge.count(COLLECTION) == len(corpus.points) == 300


def test_same_top10_for_scifact_claims(
    stores: tuple[ClientVectorStore, EdgeVectorStore], corpus: EmbeddedCorpus
) -> None:
    """For 20 real claims both stores return the exact top 10, in order, with equal scores."""
    client, edge = stores
    for query in corpus.queries:
        from_client = client.search(COLLECTION, query, 10)
        from_edge = edge.search(COLLECTION, query, 10)
        ids = [h.chunk_id for h in from_client]
        assert ids == [h.chunk_id for h in from_edge]
        assert ids == brute_force(corpus, query, 10)
        scores = np.array([h.score for h in from_client])
        np.testing.assert_allclose(scores, [h.score for h in from_edge], atol=1e-4)
        assert np.all(np.diff(scores) <= 0)
        np.testing.assert_allclose(scores, np.sort(corpus.matrix @ query)[::-1][:10], atol=1e-4)


def test_payload_round_trips(
    stores: tuple[ClientVectorStore, EdgeVectorStore], corpus: EmbeddedCorpus
) -> None:
    """A hit carries the payload that was upserted, in both stores."""
    by_id = {p.id: p.payload for p in corpus.points}
    for store in stores:
        for hit in store.search(COLLECTION, corpus.queries[0], 5):
            assert hit.payload == by_id[hit.chunk_id]


def test_ids_only_search_returns_the_same_hits_without_payloads(
    stores: tuple[ClientVectorStore, EdgeVectorStore], corpus: EmbeddedCorpus
) -> None:
    """ids_only gives the same ids and scores in both stores, payloads cut to the chunk id."""
    for store in stores:
        for query in corpus.queries[:5]:
            full = store.search(COLLECTION, query, 10)
            lean = store.search(COLLECTION, query, 10, ids_only=True)
            assert [h.chunk_id for h in lean] == [h.chunk_id for h in full]
            assert [h.score for h in lean] == [h.score for h in full]
            assert all(h.payload == {"chunk_id": h.chunk_id} for h in lean)

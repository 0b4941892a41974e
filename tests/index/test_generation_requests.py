"""Generation collections on a Qdrant server, at the request level (no server binary here).

Local mode has no payload indexes, so what a server is asked for is pinned against the
recording HTTP server: the integer indexes on valid_from/valid_to and the version filter.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from rag_pipelines.index.generation_store import GenerationWriter
from rag_pipelines.index.generation_view import GenerationView
from rag_pipelines.index.vector_store import PayloadFilter, SparseVector
from tests.index.qdrant_recorder import QdrantState, recording_qdrant
from tests.index.test_qdrant_cluster_requests import store_on


@pytest.fixture
def qdrant() -> Iterator[tuple[str, QdrantState]]:
    """A recording fake Qdrant on loopback."""
    with recording_qdrant() as server:
        yield server


def test_generation_collection_indexes_its_validity_fields(
    qdrant: tuple[str, QdrantState],
) -> None:
    """valid_from/valid_to get integer indexes; chunk_id and point_key keyword ones."""
    url, state = qdrant
    store = store_on(url)
    GenerationWriter(store, "rag_docs_v1_gen").create(4)
    fields = {
        c.body["field_name"]: c.body["field_schema"]
        for c in state.calls("PUT", r"^/collections/rag_docs_v1_gen/index$")
    }
    assert fields == {
        "access_groups": "keyword",
        "valid_from": "integer",
        "valid_to": "integer",
        "chunk_id": "keyword",
        "point_key": "keyword",
    }
    store.close()


def test_queries_carry_the_version_filter(qdrant: tuple[str, QdrantState]) -> None:
    """Dense and sparse queries of version 3 filter valid_from <= 3 < valid_to beside the
    caller's filter; sparse weights are multiplied by the version's idf."""
    url, state = qdrant
    store = store_on(url)
    view = GenerationView(store, "v3", 3, idf=[0.5, 2.0])
    view.search("rag_docs_v1_gen", np.ones(4, dtype=np.float32), 10, PayloadFilter(groups=("a",)))
    view.search_sparse("rag_docs_v1_gen_bm25", SparseVector([1, 0], [1.0, 3.0]), 10)
    dense, sparse = state.calls("POST", r"/points/query$")
    validity = [
        {"key": "valid_from", "range": {"lte": 3}},
        {"key": "valid_to", "range": {"gt": 3}},
    ]
    assert dense.body["filter"]["must"][:2] == validity
    assert dense.body["filter"]["must"][2]["key"] == "access_groups"
    assert dense.body["params"] == {"quantization": {"rescore": True, "oversampling": 3.0}}
    assert sparse.body["filter"]["must"] == validity
    assert sparse.body["query"] == {"nearest": {"indices": [1, 0], "values": [2.0, 1.5]}}
    store.close()

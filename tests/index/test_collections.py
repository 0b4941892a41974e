"""Collection housekeeping in both stores, and the client store's atomic alias switch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.edge_store import EdgeVectorStore
from rag_pipelines.index.vector_store import VectorPoint, VectorStore

OPENERS: dict[str, Callable[[Path], VectorStore]] = {
    "edge": lambda root: EdgeVectorStore(root / "edge"),
    "local": lambda root: ClientVectorStore.local(str(root / "local")),
}


def points(count: int, tag: str) -> list[VectorPoint]:
    """`count` points whose chunk ids start with `tag`."""
    rng = np.random.default_rng(count)
    return [
        VectorPoint(
            id=f"{tag}{i:030x}",
            vector=rng.standard_normal(8).astype(np.float32),
            payload={"chunk_id": f"{tag}{i:030x}"},
        )
        for i in range(count)
    ]


def fill(store: VectorStore, name: str, count: int, tag: str = "aa") -> None:
    """Create, fill and finalize a collection."""
    store.create_collection(name, 8)
    store.upsert(name, points(count, tag))
    store.finalize(name)


@pytest.fixture(params=sorted(OPENERS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    """Each store kind on an empty folder."""
    opened = OPENERS[request.param](tmp_path)
    yield opened
    opened.close()


def test_count_collections_and_drop(store: VectorStore) -> None:
    """Collections are listed, counted, dropped; dropping one leaves the other."""
    assert store.collections() == []
    fill(store, "rag_v2", 7)
    fill(store, "rag_v1", 5)
    assert store.collections() == ["rag_v1", "rag_v2"]
    assert (store.count("rag_v1"), store.count("rag_v2")) == (5, 7)
    store.drop_collection("rag_v1")
    assert store.collections() == ["rag_v2"]
    assert store.count("rag_v2") == 7


def test_drop_of_an_absent_collection_is_quiet(store: VectorStore) -> None:
    """Dropping a collection that does not exist is not an error."""
    store.drop_collection("never_made")
    assert store.collections() == []


def test_upsert_of_the_same_ids_replaces(store: VectorStore) -> None:
    """Upserting a chunk id twice keeps one point (ids are idempotent)."""
    fill(store, "rag_v1", 6)
    store.upsert("rag_v1", points(6, "aa")[:3])
    assert store.count("rag_v1") == 6


def test_create_replaces_an_existing_collection(store: VectorStore) -> None:
    """Creating a collection that exists starts it empty."""
    fill(store, "rag_v1", 5)
    store.create_collection("rag_v1", 8)
    assert store.count("rag_v1") == 0


def test_alias_moves_between_collections(tmp_path: Path) -> None:
    """point_alias names one collection, then moves; searches through the alias follow it."""
    store = ClientVectorStore.local(str(tmp_path / "local"))
    fill(store, "rag_v1", 4, tag="aa")
    fill(store, "rag_v2", 4, tag="bb")
    assert store.alias_target("rag_live") is None
    store.point_alias("rag_live", "rag_v1")
    assert store.alias_target("rag_live") == "rag_v1"
    query = np.ones(8, dtype=np.float32)
    assert all(h.chunk_id.startswith("aa") for h in store.search("rag_live", query, 4))
    store.point_alias("rag_live", "rag_v2")
    assert store.alias_target("rag_live") == "rag_v2"
    assert all(h.chunk_id.startswith("bb") for h in store.search("rag_live", query, 4))
    assert store.collections() == ["rag_v1", "rag_v2"]
    store.close()

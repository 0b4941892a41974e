"""Lean Edge queries read chunk ids off point ids, except in collections with other ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag_pipelines.hashing import sha256_text
from rag_pipelines.index.edge_store import MIXED_IDS, EdgeVectorStore, is_point_hex
from rag_pipelines.index.vector_store import VectorPoint


def _fill(store: EdgeVectorStore, name: str, ids: list[str]) -> None:
    store.create_collection(name, 4)
    vectors = np.eye(4, dtype=np.float32)
    store.upsert(name, [VectorPoint(c, vectors[i % 4], {"chunk_id": c}) for i, c in enumerate(ids)])
    store.finalize(name)


def test_chunker_ids_are_read_off_point_ids_without_payloads(tmp_path: Path) -> None:
    """32-hex chunk ids: ids_only asks Edge for no payload and still names every chunk."""
    ids = [sha256_text("doc", str(i))[:32] for i in range(8)]
    store = EdgeVectorStore(tmp_path)
    _fill(store, "lean", ids)
    assert all(is_point_hex(c) for c in ids)
    assert store._payload("lean", True) is False
    full = store.search("lean", np.array([1, 0, 0, 0.1], dtype=np.float32), 8)
    lean = store.search("lean", np.array([1, 0, 0, 0.1], dtype=np.float32), 8, ids_only=True)
    assert [h.chunk_id for h in lean] == [h.chunk_id for h in full]
    assert {h.chunk_id for h in lean} == set(ids)
    assert all(h.payload == {"chunk_id": h.chunk_id} for h in lean)
    store.close()


def test_other_ids_mark_the_collection_and_keep_reading_payloads(tmp_path: Path) -> None:
    """Regression: a 64-hex chunk id must not come back cut to its 32-hex point id."""
    ids = [sha256_text("doc", str(i)) for i in range(4)]  # 64 hex digits
    store = EdgeVectorStore(tmp_path)
    _fill(store, "mixed", ids)
    assert (tmp_path / "mixed" / MIXED_IDS).exists()
    reopened = EdgeVectorStore(tmp_path)  # another process: the marker is on disk
    store.close()
    hits = reopened.search("mixed", np.array([1, 0, 0, 0], dtype=np.float32), 4, ids_only=True)
    assert reopened._payload("mixed", True) == ["chunk_id"]
    assert {h.chunk_id for h in hits} == set(ids)
    reopened.close()


def test_shards_keep_payloads_warm_and_the_id_tracker_on_the_heap(tmp_path: Path) -> None:
    """Regression: cold payloads (Edge's default) cost ~1.5 ms of page faults on new queries."""
    import json

    store = EdgeVectorStore(tmp_path)
    _fill(store, "warm", [sha256_text("doc", str(i))[:32] for i in range(4)])
    store.close()
    config = json.loads((tmp_path / "warm" / "edge_config.json").read_text())
    assert config["payload_memory"] == "cached"
    assert config["id_tracker_memory"] == "pinned"
    reopened = EdgeVectorStore(tmp_path)
    assert reopened.count("warm") == 4
    reopened.close()

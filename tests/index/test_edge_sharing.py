"""A finalized Edge shard can be opened again, by this process and by another, while open."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag_pipelines.index.edge_store import EdgeVectorStore
from rag_pipelines.index.vector_store import VectorPoint

READER = """
import json, sys
from pathlib import Path
import numpy as np
from rag_pipelines.index.edge_store import EdgeVectorStore
store = EdgeVectorStore(Path(sys.argv[1]))
hits = store.search("rag_v1", np.ones(8, dtype=np.float32), 3)
print(json.dumps({"count": store.count("rag_v1"), "top": [h.chunk_id for h in hits]}))
store.close()
"""


def built_store(root: Path) -> EdgeVectorStore:
    """An Edge store with one finalized 20-point collection, left open."""
    rng = np.random.default_rng(0)
    store = EdgeVectorStore(root)
    store.create_collection("rag_v1", 8)
    store.upsert(
        "rag_v1",
        [
            VectorPoint(
                f"{i:032x}", rng.standard_normal(8).astype(np.float32), {"chunk_id": str(i)}
            )
            for i in range(20)
        ],
    )
    store.finalize("rag_v1")
    return store


def top3(store: EdgeVectorStore) -> list[str]:
    """The three nearest chunk ids to the all-ones vector."""
    return [h.chunk_id for h in store.search("rag_v1", np.ones(8, dtype=np.float32), 3)]


def test_second_instance_reads_an_open_shard(tmp_path: Path) -> None:
    """Another EdgeVectorStore on the same folder sees the same points while the first is open."""
    first = built_store(tmp_path)
    second = EdgeVectorStore(tmp_path)
    assert second.collections() == ["rag_v1"]
    assert second.count("rag_v1") == first.count("rag_v1") == 20
    assert top3(second) == top3(first)
    second.close()
    first.close()


def test_another_process_reads_an_open_shard(tmp_path: Path) -> None:
    """A second process opens the finalized shard while this one holds it (the WAL is off)."""
    first = built_store(tmp_path)
    expected = top3(first)
    result = subprocess.run(
        [sys.executable, "-c", READER, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == {"count": 20, "top": expected}
    assert top3(first) == expected
    first.close()


def test_unknown_collection_is_a_key_error(tmp_path: Path) -> None:
    """Asking for a shard that was never created names it."""
    with pytest.raises(KeyError, match="rag_v1"):
        top3(EdgeVectorStore(tmp_path))

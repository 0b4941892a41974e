"""index.qdrant.search_threads: the size of a Qdrant Edge shard's search pool."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from rag_pipelines.config.models import QdrantSettings
from rag_pipelines.index.edge_store import EdgeVectorStore
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.index.vector_store import VectorPoint
from rag_pipelines.workspace import Workspace

IDS = [f"{i:032x}" for i in range(1, 6)]


def persisted(store: EdgeVectorStore, name: str) -> dict[str, object]:
    return dict(json.loads((store.root / name / "edge_config.json").read_text()))


@pytest.mark.parametrize(("threads", "expected"), [(1, 1), (3, 3), (None, None)])
def test_the_pool_size_is_kept_in_the_shard(
    tmp_path: Path, threads: int | None, expected: int | None
) -> None:
    settings = QdrantSettings.model_validate({"search_threads": threads})
    store = open_vector_store(settings, Workspace(tmp_path))
    assert isinstance(store, EdgeVectorStore)
    store.create_collection("c", 4)
    store.upsert(
        "c", [VectorPoint(i, [1.0, float(n), 0.0, 0.5], {"chunk_id": i}) for n, i in enumerate(IDS)]
    )
    store.finalize("c")
    assert persisted(store, "c").get("max_search_threads") == expected
    store.release("c")
    reopened = EdgeVectorStore(store.root, search_threads=7)  # another setting later: unchanged
    hits = reopened.search("c", np.array([1.0, 4.0, 0.0, 0.5]), 2)
    assert hits[0].chunk_id == IDS[4]
    assert persisted(reopened, "c").get("max_search_threads") == expected


def test_one_search_thread_is_the_default() -> None:
    assert QdrantSettings().search_threads == 1


def test_search_threads_are_refused_for_a_server() -> None:
    with pytest.raises(ValidationError, match="max_search_threads"):
        QdrantSettings.model_validate({"url": "http://127.0.0.1:6333", "search_threads": 4})

"""Cluster settings in qdrant-client's local mode: the same code path answers like the plain one.

Local mode accepts shards, on-disk, quantization and HNSW arguments without honouring them
(exact search), so this proves the path runs end to end and changes no answer; what the
server is asked to do is pinned in test_qdrant_cluster_requests.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qdrant_client import QdrantClient

from rag_pipelines.config.models import QdrantSettings
from rag_pipelines.config.qdrant import QdrantClusterSettings
from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.index.vector_store import SparseVector, VectorPoint
from rag_pipelines.workspace import Workspace


def memory_store(cluster: QdrantClusterSettings | None) -> ClientVectorStore:
    """A local-mode store in memory."""
    store = ClientVectorStore(QdrantClient(location=":memory:"), cluster)
    store.kind = "local"
    return store


def corpus(count: int = 120, dim: int = 16) -> tuple[list[VectorPoint], np.ndarray]:
    """Random unit vectors with payloads, and 5 queries."""
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((count, dim)).astype(np.float32)
    points = [
        VectorPoint(f"{i:032x}", v, {"chunk_id": f"{i:032x}", "source": "docs"})
        for i, v in enumerate(vectors)
    ]
    return points, rng.standard_normal((5, dim)).astype(np.float32)


def test_cluster_settings_change_no_answer_in_local_mode(tmp_path: Path) -> None:
    """A sharded/quantized/bulk-loaded store gives the plain store's results."""
    points, queries = corpus()
    settings = QdrantSettings.model_validate(
        {
            "backend": "local",
            "cluster": {
                "shard_number": 4,
                "on_disk_vectors": True,
                "on_disk_sparse_index": True,
                "quantization": {"oversampling": 2.0},
                "hnsw": {"m": 16, "bulk_load": True},
                "upload": {"batch_size": 64},
            },
        }
    )
    opened = open_vector_store(settings, Workspace(tmp_path))
    assert isinstance(opened, ClientVectorStore) and opened.cluster == settings.cluster
    opened.close()
    # In memory: on a path, local mode commits SQLite once per point (seconds for 120 points).
    clustered = memory_store(settings.cluster)
    plain = memory_store(None)
    for store in (clustered, plain):
        store.create_collection("rag_docs_v1", 16)
        store.upsert("rag_docs_v1", points)
        store.finalize("rag_docs_v1")
        store.create_collection("rag_docs_v1_bm25", None, sparse=True)
        store.upsert(
            "rag_docs_v1_bm25",
            [
                VectorPoint(p.id, None, p.payload, SparseVector([i % 7], [1.0]))
                for i, p in enumerate(points)
            ],
        )
        store.finalize("rag_docs_v1_bm25")
        store.point_alias("rag_docs_live", "rag_docs_v1")
    assert clustered.count("rag_docs_v1") == plain.count("rag_docs_v1") == 120
    for query in queries:
        got = clustered.search("rag_docs_live", query, 10)
        want = plain.search("rag_docs_live", query, 10)
        assert [h.chunk_id for h in got] == [h.chunk_id for h in want]
        assert np.allclose([h.score for h in got], [h.score for h in want])
    sparse = SparseVector([3], [1.0])
    got_sparse = clustered.search_sparse("rag_docs_v1_bm25", sparse, 50)
    assert {h.chunk_id for h in got_sparse} == {
        h.chunk_id for h in plain.search_sparse("rag_docs_v1_bm25", sparse, 50)
    }
    assert len(got_sparse) == len([i for i in range(120) if i % 7 == 3])
    clustered.close()
    plain.close()

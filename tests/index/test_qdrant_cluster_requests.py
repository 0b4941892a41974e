"""Cluster settings at the request level: the exact REST calls qdrant-client sends.

Local mode accepts but does not honour shards, replicas, quantization, on-disk storage or HNSW
parameters, and there is no Qdrant server binary here; so these tests run qdrant-client against
a recording HTTP server on 127.0.0.1 and assert the requests themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qdrant_client import QdrantClient

from rag_pipelines.config.models import SourcesFile
from rag_pipelines.config.qdrant import QdrantClusterSettings
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.fingerprint import ModelFingerprint
from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.manifest import BuildManifest, CheckRecord
from rag_pipelines.index.vector_store import SparseVector, VectorPoint
from rag_pipelines.index.versions import utc_now
from rag_pipelines.pipeline.checks.blocking import BLOCKING_CHECKS
from rag_pipelines.pipeline.publish import publish
from tests.index.qdrant_recorder import QdrantState, recording_qdrant

CLUSTER: dict[str, Any] = {
    "shard_number": 6,
    "replication_factor": 2,
    "write_consistency_factor": 2,
    "on_disk_vectors": True,
    "on_disk_sparse_index": True,
    "quantization": {"quantile": 0.99, "always_ram": True, "rescore": True, "oversampling": 3.0},
    "hnsw": {"m": 32, "ef_construct": 128, "indexing_threshold_kb": 50000},
    "upload": {"batch_size": 10, "parallel": 1},
    "index_wait_s": 10,
}


@pytest.fixture
def qdrant() -> Iterator[tuple[str, QdrantState]]:
    """A recording fake Qdrant on loopback."""
    with recording_qdrant() as server:
        yield server


def store_on(url: str, **overrides: Any) -> ClientVectorStore:
    """A client store on the recorder with CLUSTER settings (plus overrides).

    No version check: qdrant-client runs it in a background thread that may outlive the server.
    """
    client = QdrantClient(url=url, timeout=10, check_compatibility=False)
    return ClientVectorStore(client, QdrantClusterSettings.model_validate({**CLUSTER, **overrides}))


def dense_points(count: int) -> list[VectorPoint]:
    """Points with 4-d vectors."""
    return [
        VectorPoint(f"{i:032x}", np.full(4, i + 1, dtype=np.float32), {"chunk_id": f"{i:032x}"})
        for i in range(count)
    ]


def test_dense_collection_is_created_with_the_cluster_layout(
    qdrant: tuple[str, QdrantState],
) -> None:
    """PUT /collections carries shards, replicas, consistency, on-disk, int8 and HNSW m=0."""
    url, state = qdrant
    store = store_on(url)
    store.create_collection("rag_docs_v1", 4)
    (create,) = state.calls("PUT", r"^/collections/rag_docs_v1$")
    assert create.body == {
        "vectors": {"dense": {"size": 4, "distance": "Cosine", "on_disk": True}},
        "shard_number": 6,
        "replication_factor": 2,
        "write_consistency_factor": 2,
        "hnsw_config": {"m": 0, "ef_construct": 128},
        "optimizers_config": {"indexing_threshold": 50000},
        "quantization_config": {"scalar": {"type": "int8", "quantile": 0.99, "always_ram": True}},
    }
    store.close()


def test_sparse_collection_has_its_index_on_disk_and_no_hnsw(
    qdrant: tuple[str, QdrantState],
) -> None:
    """The BM25 collection is sharded alike; its inverted index is on disk; no dense options."""
    url, state = qdrant
    store = store_on(url)
    store.create_collection("rag_docs_v1_bm25", None, sparse=True)
    store.upsert(
        "rag_docs_v1_bm25",
        [VectorPoint(f"{1:032x}", None, {"chunk_id": "a"}, SparseVector([3, 7], [0.5, 1.5]))],
    )
    store.finalize("rag_docs_v1_bm25")
    (create,) = state.calls("PUT", r"^/collections/rag_docs_v1_bm25$")
    assert create.body == {
        "vectors": {},
        "sparse_vectors": {"bm25": {"index": {"on_disk": True}}},
        "shard_number": 6,
        "replication_factor": 2,
        "write_consistency_factor": 2,
    }
    assert state.calls("PATCH") == []  # nothing to re-enable: no dense vectors
    (put,) = state.calls("PUT", r"/points$")
    assert put.body["points"][0]["vector"] == {"bm25": {"indices": [3, 7], "values": [0.5, 1.5]}}
    store.close()


def test_bulk_load_batches_then_reenables_hnsw_and_waits_for_green(
    qdrant: tuple[str, QdrantState],
) -> None:
    """Points go in PUTs of batch_size with wait=true; finalize PATCHes m and polls to green."""
    url, state = qdrant
    state.statuses = ["yellow", "yellow"]
    store = store_on(url)
    store.create_collection("rag_docs_v1", 4)
    store.upsert("rag_docs_v1", dense_points(25))
    store.finalize("rag_docs_v1")
    puts = state.calls("PUT", r"^/collections/rag_docs_v1/points$")
    assert [len(p.body["points"]) for p in puts] == [10, 10, 5]
    assert all("wait=true" in p.query for p in puts)
    assert puts[0].body["points"][1] == {
        "id": "00000000-0000-0000-0000-000000000001",
        "vector": {"dense": [2.0, 2.0, 2.0, 2.0]},
        "payload": {"chunk_id": f"{1:032x}"},
    }
    (patch,) = state.calls("PATCH", r"^/collections/rag_docs_v1$")
    assert patch.body == {
        "hnsw_config": {"m": 32},
        "optimizers_config": {"indexing_threshold": 50000},
    }
    order = [(r.method, r.path) for r in state.requests if r.path.startswith("/collections/rag_")]
    assert order.index(("PATCH", "/collections/rag_docs_v1")) > max(
        i for i, call in enumerate(order) if call == ("PUT", "/collections/rag_docs_v1/points")
    )
    assert len(state.calls("GET", r"^/collections/rag_docs_v1$")) == 3  # yellow, yellow, green
    assert store.count("rag_docs_v1") == 25
    store.close()


def test_bulk_load_off_creates_with_m_and_sends_no_patch(
    qdrant: tuple[str, QdrantState],
) -> None:
    """hnsw.bulk_load: false builds the graph while uploading: m from the start, no PATCH."""
    url, state = qdrant
    store = store_on(url, hnsw={"m": 24, "bulk_load": False})
    store.create_collection("rag_docs_v1", 4)
    store.upsert("rag_docs_v1", dense_points(3))
    store.finalize("rag_docs_v1")
    (create,) = state.calls("PUT", r"^/collections/rag_docs_v1$")
    assert create.body["hnsw_config"]["m"] == 24
    assert state.calls("PATCH") == []
    store.close()


def test_parallel_upload_sends_every_point_once(qdrant: tuple[str, QdrantState]) -> None:
    """parallel: 2 uploads through qdrant-client's worker processes; every id arrives once."""
    url, state = qdrant
    store = store_on(url, upload={"batch_size": 7, "parallel": 2})
    store.create_collection("rag_docs_v1", 4)
    store.upsert("rag_docs_v1", dense_points(30))
    assert state.calls("PUT", r"/points$") == []  # buffered until a flush
    store.finalize("rag_docs_v1")
    puts = state.calls("PUT", r"^/collections/rag_docs_v1/points$")
    ids = [p["id"] for put in puts for p in put.body["points"]]
    assert sorted(len(p.body["points"]) for p in puts) == [2, 7, 7, 7, 7]
    assert len(ids) == len(set(ids)) == 30
    assert all("wait=true" in p.query for p in puts)
    store.close()


def test_query_rescores_quantized_candidates(qdrant: tuple[str, QdrantState]) -> None:
    """A dense query asks Qdrant to rescore with original vectors, oversampled as configured."""
    url, state = qdrant
    store = store_on(url)
    store.search("rag_live", np.ones(4, dtype=np.float32), 10)
    (query,) = state.calls("POST", r"/points/query$")
    assert query.body["params"] == {"quantization": {"rescore": True, "oversampling": 3.0}}
    assert (query.body["using"], query.body["limit"]) == ("dense", 10)
    store.close()


def _version(ctx: PipelineContext, passed: bool = True) -> str:
    registry = ctx.registry
    version = registry.allocate()
    (registry.build_path(version) / "documents.jsonl").write_text("", encoding="utf-8")
    registry.complete(
        BuildManifest(
            version=version,
            pipeline="docs",
            created_at=utc_now(),
            store_kind="server",
            collection=f"rag_docs_{version}",
            bm25_collection=f"rag_docs_{version}_bm25",
            model_ref="bundled:all-MiniLM-L6-v2",
            model=ModelFingerprint(name="m", revision="r", dimension=4, normalize=True),
            sources={},
            documents=0,
            chunks=0,
            vectors=0,
            content_hash="0" * 64,
        )
    )
    for name in BLOCKING_CHECKS:
        record = CheckRecord(name=name, passed=passed, checked_at=utc_now())
        registry.record_check(version, record)
    return version


def test_publish_switches_aliases_atomically_and_drops_expired_collections(
    qdrant: tuple[str, QdrantState], tmp_path: Path
) -> None:
    """Each alias moves in one request (delete+create); versions past retention are DELETEd."""
    url, state = qdrant
    config = SourcesFile.model_validate(
        {
            "pipeline": {"name": "docs", "data_dir": str(tmp_path / "data")},
            "index": {"qdrant": {"url": url, "cluster": CLUSTER}, "retention": 1},
            "sources": [
                {"name": "docs", "connector": {"type": "filesystem", "root": str(tmp_path)}}
            ],
        }
    )
    ctx = PipelineContext(config)
    store = store_on(url)
    first, second = _version(ctx), _version(ctx)
    for version in (first, second):
        for name in (f"rag_docs_{version}", f"rag_docs_{version}_bm25"):
            state.collections[name] = set()
    publish(ctx, first, store)
    state.requests.clear()

    report = publish(ctx, second, store)

    moves = [r.body["actions"] for r in state.calls("POST", r"^/collections/aliases$")]
    assert moves == [
        [
            {"delete_alias": {"alias_name": "rag_docs_live"}},
            {
                "create_alias": {
                    "collection_name": f"rag_docs_{second}",
                    "alias_name": "rag_docs_live",
                }
            },
        ],
        [
            {"delete_alias": {"alias_name": "rag_docs_live_bm25"}},
            {
                "create_alias": {
                    "collection_name": f"rag_docs_{second}_bm25",
                    "alias_name": "rag_docs_live_bm25",
                }
            },
        ],
    ]
    deleted = [r.path for r in state.calls("DELETE")]
    assert deleted == [f"/collections/rag_docs_{first}", f"/collections/rag_docs_{first}_bm25"]
    alias_calls = [i for i, r in enumerate(state.requests) if r.path == "/collections/aliases"]
    delete_calls = [i for i, r in enumerate(state.requests) if r.method == "DELETE"]
    assert max(alias_calls) < min(delete_calls)  # the old version is dropped only once unserved
    assert report.collected == [first]
    assert state.aliases == {
        "rag_docs_live": f"rag_docs_{second}",
        "rag_docs_live_bm25": f"rag_docs_{second}_bm25",
    }
    store.close()

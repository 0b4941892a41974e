"""Vector store through qdrant-client: a Qdrant server or cluster by URL, or local mode."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models

from rag_pipelines.config.qdrant import QdrantClusterSettings
from rag_pipelines.hashing import point_uuid
from rag_pipelines.index.vector_store import (
    ACCESS_KEY,
    DENSE,
    SPARSE,
    VALID_FROM,
    VALID_TO,
    PayloadFilter,
    SparseVector,
    VectorHit,
    VectorPoint,
    best_first,
)

log = logging.getLogger(__name__)

_BATCH = 256
_FLUSH_BATCHES = 16  # batches per parallel worker buffered before one upload_points call
_POLL_S = 0.5


class ClientVectorStore:
    """Collections on a Qdrant server (or qdrant-client's local mode, used by tests).

    Publishing points a collection alias at the new version's collection; Qdrant applies the
    alias change atomically, so clients querying the alias never see a half-switched index.
    With `cluster` settings, collections are created sharded/replicated/quantized as
    configured, dense ones with HNSW deferred (m: 0) until `finalize`, and points are sent
    with `upload_points` in parallel batches.
    """

    kind = "server"

    def __init__(self, client: QdrantClient, cluster: QdrantClusterSettings | None = None) -> None:
        self.client = client
        self.cluster = cluster
        self._dense: dict[str, bool] = {}  # collections created here: has a dense vector
        self._pending: dict[str, list[models.PointStruct]] = {}

    @classmethod
    def connect(
        cls,
        url: str,
        api_key: str | None,
        timeout_s: float,
        cluster: QdrantClusterSettings | None = None,
    ) -> ClientVectorStore:
        """A store on a Qdrant server."""
        return cls(QdrantClient(url=url, api_key=api_key, timeout=int(timeout_s)), cluster)

    @classmethod
    def local(cls, path: str, cluster: QdrantClusterSettings | None = None) -> ClientVectorStore:
        """A store in qdrant-client's local mode (pure Python, one process at a time)."""
        store = cls(QdrantClient(path=path), cluster)
        store.kind = "local"
        return store

    def create_collection(self, name: str, dimension: int | None, sparse: bool = False) -> None:
        """Create (or recreate) an empty collection: dense cosine and/or sparse dot product."""
        if self.client.collection_exists(name):
            self.client.delete_collection(name)
        self._pending.pop(name, None)
        self.client.create_collection(
            name,
            vectors_config=dense_params(dimension, self.cluster),
            sparse_vectors_config=sparse_params(self.cluster) if sparse else None,
            **collection_layout(self.cluster, dense=bool(dimension)),
        )
        self._dense[name] = bool(dimension)
        if self.kind == "server":  # local mode has no payload indexes
            self.client.create_payload_index(name, ACCESS_KEY, models.PayloadSchemaType.KEYWORD)

    def upsert(self, name: str, points: Sequence[VectorPoint]) -> None:
        """Insert or replace points: in batches (waiting for each), or via `upload_points`.

        With parallel upload, points are buffered and sent `_FLUSH_BATCHES` batches per worker
        at a time (one process pool per flush, not per call); reads and `finalize` flush first.
        """
        structs = [
            models.PointStruct(id=point_uuid(p.id), vector=_client_vectors(p), payload=p.payload)
            for p in points
        ]
        if self.cluster is None:
            for i in range(0, len(structs), _BATCH):
                self.client.upsert(name, points=structs[i : i + _BATCH], wait=True)
            return
        upload = self.cluster.upload
        pending = self._pending.setdefault(name, [])
        pending.extend(structs)
        if (
            upload.parallel == 1
            or len(pending) >= upload.batch_size * upload.parallel * _FLUSH_BATCHES
        ):
            self._flush(name)

    def flush(self, name: str) -> None:
        """Send the points buffered for a collection now."""
        self._flush(name)

    def _flush(self, name: str) -> None:
        pending = self._pending.pop(name, [])
        if not pending or self.cluster is None:
            return
        upload = self.cluster.upload
        self.client.upload_points(
            name,
            points=pending,
            batch_size=upload.batch_size,
            parallel=upload.parallel,
            max_retries=upload.max_retries,
            wait=True,
        )

    def finalize(self, name: str) -> None:
        """Send buffered points; re-enable HNSW after a bulk load; wait until indexed (bounded)."""
        self._flush(name)
        if self.cluster is None:
            return
        hnsw = self.cluster.hnsw
        if hnsw.bulk_load and self._dense.get(name, True):
            self.client.update_collection(
                name,
                hnsw_config=models.HnswConfigDiff(m=hnsw.m),
                optimizers_config=models.OptimizersConfigDiff(
                    indexing_threshold=hnsw.indexing_threshold_kb
                ),
            )
        self._wait_green(name, self.cluster.index_wait_s)

    def _wait_green(self, name: str, limit_s: float) -> None:
        deadline = time.monotonic() + limit_s
        while True:
            status = self.client.get_collection(name).status
            if status == models.CollectionStatus.GREEN:
                return
            if status == models.CollectionStatus.RED or time.monotonic() >= deadline:
                log.warning(
                    "collection %s is %s after %.0f s; serving meanwhile", name, status, limit_s
                )
                return
            time.sleep(_POLL_S)

    def search(
        self,
        name: str,
        vector: np.ndarray,
        limit: int,
        flt: PayloadFilter | None = None,
        ids_only: bool = False,
        valid_at: int | None = None,
    ) -> list[VectorHit]:
        """Nearest chunks, best first (quantized candidates rescored when configured;
        `ids_only`: payloads hold the chunk id alone; `valid_at`: points of that version)."""
        self._flush(name)
        response = self.client.query_points(
            name,
            query=np.asarray(vector, dtype=np.float32).tolist(),
            using=DENSE,
            limit=limit,
            query_filter=client_filter(flt, valid_at),
            search_params=search_params(self.cluster) if self.kind == "server" else None,
            with_payload=_ID_ONLY if ids_only else True,
        )
        return _hits(response.points)

    def search_sparse(
        self,
        name: str,
        vector: SparseVector,
        limit: int,
        flt: PayloadFilter | None = None,
        ids_only: bool = False,
        valid_at: int | None = None,
    ) -> list[VectorHit]:
        """Chunks by sparse dot product, best first (no hits for an empty query)."""
        if not vector.indices:
            return []
        self._flush(name)
        response = self.client.query_points(
            name,
            query=models.SparseVector(indices=vector.indices, values=vector.values),
            using=SPARSE,
            limit=limit,
            query_filter=client_filter(flt, valid_at),
            with_payload=_ID_ONLY if ids_only else True,
        )
        return _hits(response.points)

    def retrieve(self, name: str, chunk_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Payloads of existing chunks by id."""
        self._flush(name)
        if not chunk_ids:
            return {}
        records = self.client.retrieve(name, [point_uuid(c) for c in chunk_ids], with_payload=True)
        return {str(r.payload["chunk_id"]): dict(r.payload) for r in records if r.payload}

    def count(self, name: str) -> int:
        """Exact number of points."""
        self._flush(name)
        return int(self.client.count(name, exact=True).count)

    def release(self, name: str) -> None:
        """Nothing is held per collection on the client side."""

    def collections(self) -> list[str]:
        """Collection names on the server."""
        return sorted(c.name for c in self.client.get_collections().collections)

    def drop_collection(self, name: str) -> None:
        """Delete a collection if it exists."""
        self._pending.pop(name, None)
        if self.client.collection_exists(name):
            self.client.delete_collection(name)

    def point_alias(self, alias: str, name: str) -> None:
        """Move `alias` to `name` in one atomic alias operation."""
        existing = {a.alias_name for a in self.client.get_aliases().aliases}
        operations: list[Any] = []
        if alias in existing:
            operations.append(
                models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
            )
        operations.append(
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=name, alias_name=alias)
            )
        )
        self.client.update_collection_aliases(change_aliases_operations=operations)

    def alias_target(self, alias: str) -> str | None:
        """The collection an alias points at, if any."""
        for item in self.client.get_aliases().aliases:
            if item.alias_name == alias:
                return str(item.collection_name)
        return None

    def close(self) -> None:
        """Send what is buffered, then close the client."""
        for name in list(self._pending):
            self._flush(name)
        self.client.close()


def _client_vectors(point: VectorPoint) -> dict[str, Any]:
    vectors: dict[str, Any] = {}
    if point.vector is not None:
        vectors[DENSE] = np.asarray(point.vector, dtype=np.float32).tolist()
    if point.sparse is not None:
        vectors[SPARSE] = models.SparseVector(
            indices=point.sparse.indices, values=point.sparse.values
        )
    return vectors


_ID_ONLY = ["chunk_id"]  # a leg needs the id alone; payloads are read once, for the final hits


def _hits(points: list[Any]) -> list[VectorHit]:
    return best_first(
        [
            VectorHit(
                chunk_id=str((p.payload or {})["chunk_id"]),
                score=float(p.score),
                payload=dict(p.payload or {}),
            )
            for p in points
        ]
    )


def client_filter(flt: PayloadFilter | None, valid_at: int | None = None) -> models.Filter | None:
    """A PayloadFilter in qdrant-client's terms; `valid_at` keeps one version's points."""
    must: list[Any] = [] if valid_at is None else valid_conditions(valid_at)
    if flt is None or flt.empty:
        return models.Filter(must=must) if must else None
    if flt.sources:
        must.append(
            models.FieldCondition(key="source", match=models.MatchAny(any=list(flt.sources)))
        )
    if flt.tags:
        must.append(models.FieldCondition(key="tags", match=models.MatchAny(any=list(flt.tags))))
    for key, value in flt.metadata.items():
        must.append(
            models.FieldCondition(key=f"metadata.{key}", match=models.MatchValue(value=value))
        )
    if flt.groups is not None:
        must.append(
            models.FieldCondition(key=ACCESS_KEY, match=models.MatchAny(any=list(flt.groups)))
        )
    return models.Filter(must=must)


def valid_conditions(seq: int) -> list[models.FieldCondition]:
    """Points of the version numbered `seq`: valid_from <= seq < valid_to."""
    return [
        models.FieldCondition(key=VALID_FROM, range=models.Range(lte=seq)),
        models.FieldCondition(key=VALID_TO, range=models.Range(gt=seq)),
    ]


def dense_params(
    dimension: int | None, cluster: QdrantClusterSettings | None
) -> dict[str, models.VectorParams]:
    """The dense vector's parameters (none for a sparse-only collection)."""
    if not dimension:
        return {}
    on_disk = cluster.on_disk_vectors if cluster is not None else None
    return {
        DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE, on_disk=on_disk)
    }


def sparse_params(cluster: QdrantClusterSettings | None) -> dict[str, models.SparseVectorParams]:
    """The BM25 sparse vector's parameters, its inverted index on disk if configured."""
    index = (
        models.SparseIndexParams(on_disk=True)
        if cluster is not None and cluster.on_disk_sparse_index
        else None
    )
    return {SPARSE: models.SparseVectorParams(index=index)}


def collection_layout(cluster: QdrantClusterSettings | None, dense: bool) -> dict[str, Any]:
    """create_collection arguments for shards, replicas, storage, HNSW and quantization."""
    if cluster is None:
        return {}
    layout: dict[str, Any] = {
        "shard_number": cluster.shard_number,
        "replication_factor": cluster.replication_factor,
        "write_consistency_factor": cluster.write_consistency_factor,
        "on_disk_payload": cluster.on_disk_payload or None,
    }
    if dense:
        hnsw = cluster.hnsw
        layout["hnsw_config"] = models.HnswConfigDiff(
            m=0 if hnsw.bulk_load else hnsw.m,
            ef_construct=hnsw.ef_construct,
            on_disk=hnsw.on_disk or None,
        )
        layout["optimizers_config"] = models.OptimizersConfigDiff(
            indexing_threshold=hnsw.indexing_threshold_kb
        )
        if cluster.quantization is not None:
            layout["quantization_config"] = models.ScalarQuantization(
                scalar=models.ScalarQuantizationConfig(
                    type=models.ScalarType.INT8,
                    quantile=cluster.quantization.quantile,
                    always_ram=cluster.quantization.always_ram,
                )
            )
    return {key: value for key, value in layout.items() if value is not None}


def search_params(cluster: QdrantClusterSettings | None) -> models.SearchParams | None:
    """Query-time quantization handling: rescore with the original vectors, oversampled."""
    if cluster is None or cluster.quantization is None:
        return None
    return models.SearchParams(
        quantization=models.QuantizationSearchParams(
            rescore=cluster.quantization.rescore,
            oversampling=cluster.quantization.oversampling,
        )
    )

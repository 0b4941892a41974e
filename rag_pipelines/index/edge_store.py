"""Vector store on Qdrant Edge: Qdrant's engine in-process, one shard folder per collection."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

from rag_pipelines.hashing import point_uuid
from rag_pipelines.index.vector_store import (
    ACCESS_KEY,
    DENSE,
    SPARSE,
    PayloadFilter,
    SparseVector,
    VectorHit,
    VectorPoint,
    best_first,
)

_BATCH = 512
# Marker in a shard folder: some point ids are not their chunk id (ids other than the chunker's
# 32 lowercase hex digits). Without it a lean query reads chunk ids off the point ids, no payload.
MIXED_IDS = "rag-mixed-ids"


class EdgeVectorStore:
    """Collections are shard folders under `root`, written once and then read-only.

    Shards are created with the WAL off: a finished, flushed shard can then be opened by many
    processes at once (the service's workers, checks, the CLI), which a WAL-backed shard refuses.
    The published-version pointer (index/LIVE.json) is the atomic switch; `point_alias` has
    nothing to do here.
    """

    kind = "edge"

    def __init__(self, root: Path, search_threads: int | None = 1) -> None:
        self.root = root
        self.search_threads = search_threads
        self._shards: dict[str, Any] = {}
        self._canonical: dict[str, bool] = {}
        self._lock = threading.Lock()

    def _path(self, name: str) -> Path:
        return self.root / name

    def _shard(self, name: str) -> Any:
        with self._lock:
            shard = self._shards.get(name)
            if shard is None:
                path = self._path(name)
                if not (path / "edge_config.json").exists():
                    raise KeyError(f"no collection {name!r} under {self.root}")
                shard = qe.EdgeShard.load(str(path))
                self._shards[name] = shard
            return shard

    def create_collection(self, name: str, dimension: int | None, sparse: bool = False) -> None:
        """Create an empty shard (dense cosine and/or sparse dot product; WAL off)."""
        path = self._path(name)
        if path.exists():
            shutil.rmtree(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        dense = (
            {DENSE: qe.EdgeVectorParams(size=dimension, distance=qe.Distance.Cosine)}
            if dimension
            else None
        )
        # Payloads warmed into the page cache at load and the id tracker on the heap: with
        # Edge's defaults (cold payloads) a query's first reads of new pages cost ~1.5 ms at
        # 100k chunks (dense p50 7.5 ms on new queries vs 6.0 on repeated ones; equal with these).
        # The search pool's size is kept in the shard's config (loading with another one would
        # rewrite that file under the processes reading it): one thread by default, since a
        # query spread over threads waits for the slowest, and on a busy machine a preempted
        # one (README § Query latency).
        config = qe.EdgeConfig(
            vectors=dense,
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams()} if sparse else None,
            wal_enabled=False,
            payload_memory=qe.Memory.Cached,
            id_tracker_memory=qe.Memory.Pinned,
            max_search_threads=self.search_threads,
        )
        shard = qe.EdgeShard.create(str(path), config)
        # Every service query filters on the caller's groups; without an index a selective
        # filter makes HNSW search 10-100x slower (measured at 20k points).
        shard.update(
            qe.UpdateOperation.create_field_index(ACCESS_KEY, qe.PayloadSchemaType.Keyword)
        )
        with self._lock:
            self._shards[name] = shard
            self._canonical.pop(name, None)

    def upsert(self, name: str, points: Sequence[VectorPoint]) -> None:
        """Insert or replace points in batches."""
        shard = self._shard(name)
        if not all(is_point_hex(p.id) for p in points):
            (self._path(name) / MIXED_IDS).touch()
            with self._lock:
                self._canonical[name] = False
        for i in range(0, len(points), _BATCH):
            batch = [
                qe.Point(point_uuid(p.id), _edge_vectors(p), p.payload)
                for p in points[i : i + _BATCH]
            ]
            shard.update(qe.UpdateOperation.upsert_points(batch))

    def finalize(self, name: str) -> None:
        """Flush to disk and build the HNSW index."""
        shard = self._shard(name)
        shard.flush()
        shard.optimize()
        shard.flush()

    def search(
        self,
        name: str,
        vector: np.ndarray,
        limit: int,
        flt: PayloadFilter | None = None,
        ids_only: bool = False,
    ) -> list[VectorHit]:
        """Nearest chunks, best first (`ids_only`: payloads hold the chunk id alone)."""
        request = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(np.asarray(vector, dtype=np.float32).tolist(), using=DENSE),
            filter=edge_filter(flt),
            with_payload=self._payload(name, ids_only),
        )
        return self._hits(name, self._shard(name).query(request), ids_only)

    def search_sparse(
        self,
        name: str,
        vector: SparseVector,
        limit: int,
        flt: PayloadFilter | None = None,
        ids_only: bool = False,
    ) -> list[VectorHit]:
        """Chunks by sparse dot product, best first (no hits for an empty query)."""
        if not vector.indices:
            return []
        request = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(qe.SparseVector(vector.indices, vector.values), using=SPARSE),
            filter=edge_filter(flt),
            with_payload=self._payload(name, ids_only),
        )
        return self._hits(name, self._shard(name).query(request), ids_only)

    def _payload(self, name: str, ids_only: bool) -> bool | list[str]:
        """What a query reads of each hit's payload: all, the chunk id, or nothing."""
        if not ids_only:
            return True
        return False if self._ids_are_points(name) else _ID_ONLY

    def _ids_are_points(self, name: str) -> bool:
        """Whether every point id of a collection is its chunk id (no MIXED_IDS marker)."""
        with self._lock:
            known = self._canonical.get(name)
        if known is None:
            known = not (self._path(name) / MIXED_IDS).exists()
            with self._lock:
                self._canonical[name] = known
        return known

    def _hits(self, name: str, points: list[Any], ids_only: bool) -> list[VectorHit]:
        """Hits with payloads; ids_only reads the chunk id off the point id where it can.

        Reading even one payload field costs about 10 µs a hit (1 ms of the 1.3 ms of a
        100-hit query at 100k chunks); the point id is the chunk id's UUID form.
        """
        if ids_only and self._ids_are_points(name):
            return best_first(
                [
                    VectorHit(chunk_id := p.id.hex, float(p.score), {"chunk_id": chunk_id})
                    for p in points
                ]
            )
        return _hits(points)

    def retrieve(self, name: str, chunk_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Payloads of existing chunks by id."""
        if not chunk_ids:
            return {}
        records = self._shard(name).retrieve(
            [point_uuid(c) for c in chunk_ids], with_payload=True, with_vector=False
        )
        return _payloads(records)

    def count(self, name: str) -> int:
        """Points in a shard."""
        return int(self._shard(name).info().points_count)

    def release(self, name: str) -> None:
        """Close a shard this process opened (a later use reopens it)."""
        with self._lock:
            shard = self._shards.pop(name, None)
        if shard is not None:
            shard.close()

    def collections(self) -> list[str]:
        """Shard folders present."""
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "edge_config.json").exists())

    def drop_collection(self, name: str) -> None:
        """Close and delete a shard folder."""
        with self._lock:
            shard = self._shards.pop(name, None)
            self._canonical.pop(name, None)
        if shard is not None:
            shard.close()
        shutil.rmtree(self._path(name), ignore_errors=True)

    def point_alias(self, alias: str, name: str) -> None:
        """Nothing to do: the LIVE pointer file switches versions for the embedded store."""

    def close(self) -> None:
        """Close every open shard."""
        with self._lock:
            shards, self._shards = list(self._shards.values()), {}
        for shard in shards:
            shard.close()


def _edge_vectors(point: VectorPoint) -> dict[str, Any]:
    vectors: dict[str, Any] = {}
    if point.vector is not None:
        vectors[DENSE] = np.asarray(point.vector, dtype=np.float32).tolist()
    if point.sparse is not None:
        vectors[SPARSE] = qe.SparseVector(point.sparse.indices, point.sparse.values)
    return vectors


_ID_ONLY = ["chunk_id"]  # a leg needs the id alone; payloads are read once, for the final hits


def is_point_hex(chunk_id: str) -> bool:
    """Whether a chunk id is exactly its point id's hex (the chunker's 32 lowercase hex)."""
    return len(chunk_id) == 32 and chunk_id == point_uuid(chunk_id).replace("-", "")


def _hits(points: list[Any]) -> list[VectorHit]:
    return best_first(
        [
            VectorHit(str((payload := p.payload)["chunk_id"]), float(p.score), payload)
            for p in points
        ]
    )


def _payloads(records: list[Any]) -> dict[str, dict[str, Any]]:
    """Payload by chunk id. Each `.payload` read converts the whole payload from Rust again
    (~6 µs a record here), so it is read once per record."""
    return {str(payload["chunk_id"]): payload for r in records if (payload := r.payload)}


def edge_filter(flt: PayloadFilter | None) -> qe.Filter | None:
    """A PayloadFilter in Qdrant Edge's terms."""
    if flt is None or flt.empty:
        return None
    must: list[Any] = []
    if flt.sources:
        must.append(qe.FieldCondition(key="source", match=qe.MatchAny(any=list(flt.sources))))
    if flt.tags:
        must.append(qe.FieldCondition(key="tags", match=qe.MatchAny(any=list(flt.tags))))
    for key, value in flt.metadata.items():
        must.append(qe.FieldCondition(key=f"metadata.{key}", match=_match_value(value)))
    if flt.groups is not None:
        must.append(qe.FieldCondition(key=ACCESS_KEY, match=qe.MatchAny(any=list(flt.groups))))
    return qe.Filter(must=must)


def _match_value(value: str | int | bool) -> qe.MatchValue:
    """An exact-match condition that keeps booleans boolean."""
    if isinstance(value, bool):
        # qdrant-edge-py reads a Python bool as an integer (bool subclasses int), so True would
        # match the integer 1 and never a stored true; it reads numpy's bool as a bool.
        return qe.MatchValue(np.bool_(value))  # type: ignore[arg-type]
    return qe.MatchValue(value)

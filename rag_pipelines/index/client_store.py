"""Vector store through qdrant-client: a Qdrant server or cluster by URL, or local mode."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models

from rag_pipelines.hashing import point_uuid
from rag_pipelines.index.vector_store import (
    ACCESS_KEY,
    DENSE,
    SPARSE,
    PayloadFilter,
    SparseVector,
    VectorHit,
    VectorPoint,
)

_BATCH = 256


class ClientVectorStore:
    """Collections on a Qdrant server (or qdrant-client's local mode, used by tests).

    Publishing points a collection alias at the new version's collection; Qdrant applies the
    alias change atomically, so clients querying the alias never see a half-switched index.
    """

    kind = "server"

    def __init__(self, client: QdrantClient) -> None:
        self.client = client

    @classmethod
    def connect(cls, url: str, api_key: str | None, timeout_s: float) -> ClientVectorStore:
        """A store on a Qdrant server."""
        return cls(QdrantClient(url=url, api_key=api_key, timeout=int(timeout_s)))

    @classmethod
    def local(cls, path: str) -> ClientVectorStore:
        """A store in qdrant-client's local mode (pure Python, one process at a time)."""
        store = cls(QdrantClient(path=path))
        store.kind = "local"
        return store

    def create_collection(self, name: str, dimension: int | None, sparse: bool = False) -> None:
        """Create (or recreate) an empty collection: dense cosine and/or sparse dot product."""
        if self.client.collection_exists(name):
            self.client.delete_collection(name)
        dense = (
            {DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE)}
            if dimension
            else {}
        )
        self.client.create_collection(
            name,
            vectors_config=dense,
            sparse_vectors_config={SPARSE: models.SparseVectorParams()} if sparse else None,
        )
        if self.kind == "server":  # local mode has no payload indexes
            self.client.create_payload_index(name, ACCESS_KEY, models.PayloadSchemaType.KEYWORD)

    def upsert(self, name: str, points: Sequence[VectorPoint]) -> None:
        """Insert or replace points in batches, waiting for each to apply."""
        for i in range(0, len(points), _BATCH):
            batch = [
                models.PointStruct(
                    id=point_uuid(p.id), vector=_client_vectors(p), payload=p.payload
                )
                for p in points[i : i + _BATCH]
            ]
            self.client.upsert(name, points=batch, wait=True)

    def finalize(self, name: str) -> None:
        """Nothing to flush: the server indexes in the background and serves meanwhile."""

    def search(
        self,
        name: str,
        vector: np.ndarray,
        limit: int,
        flt: PayloadFilter | None = None,
        ids_only: bool = False,
    ) -> list[VectorHit]:
        """Nearest chunks, best first (`ids_only`: payloads hold the chunk id alone)."""
        response = self.client.query_points(
            name,
            query=np.asarray(vector, dtype=np.float32).tolist(),
            using=DENSE,
            limit=limit,
            query_filter=client_filter(flt),
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
    ) -> list[VectorHit]:
        """Chunks by sparse dot product, best first (no hits for an empty query)."""
        if not vector.indices:
            return []
        response = self.client.query_points(
            name,
            query=models.SparseVector(indices=vector.indices, values=vector.values),
            using=SPARSE,
            limit=limit,
            query_filter=client_filter(flt),
            with_payload=_ID_ONLY if ids_only else True,
        )
        return _hits(response.points)

    def retrieve(self, name: str, chunk_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Payloads of existing chunks by id."""
        if not chunk_ids:
            return {}
        records = self.client.retrieve(name, [point_uuid(c) for c in chunk_ids], with_payload=True)
        return {str(r.payload["chunk_id"]): dict(r.payload) for r in records if r.payload}

    def count(self, name: str) -> int:
        """Exact number of points."""
        return int(self.client.count(name, exact=True).count)

    def release(self, name: str) -> None:
        """Nothing is held per collection on the client side."""

    def collections(self) -> list[str]:
        """Collection names on the server."""
        return sorted(c.name for c in self.client.get_collections().collections)

    def drop_collection(self, name: str) -> None:
        """Delete a collection if it exists."""
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
        """Close the client."""
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
    return [
        VectorHit(
            chunk_id=str((p.payload or {})["chunk_id"]),
            score=float(p.score),
            payload=dict(p.payload or {}),
        )
        for p in points
    ]


def client_filter(flt: PayloadFilter | None) -> models.Filter | None:
    """A PayloadFilter in qdrant-client's terms."""
    if flt is None or flt.empty:
        return None
    must: list[Any] = []
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

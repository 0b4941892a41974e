"""The vector store interface: one small protocol, an embedded and a client implementation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

DENSE = "dense"
SPARSE = "bm25"
ACCESS_KEY = "access_groups"  # payload field: the groups that may read a chunk
VALID_FROM = "valid_from"  # generation versioning: first version sequence holding a point
VALID_TO = "valid_to"  # ... and the first one no longer holding it


@dataclass(frozen=True)
class SparseVector:
    """Term ids and weights."""

    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class VectorPoint:
    """A chunk's dense or sparse vector and payload; `id` is the chunk id (a UUID point id)."""

    id: str
    vector: np.ndarray | None
    payload: dict[str, Any]
    sparse: SparseVector | None = None


@dataclass(frozen=True)
class VectorHit:
    """One search result."""

    chunk_id: str
    score: float
    payload: dict[str, Any]


def best_first(hits: list[VectorHit]) -> list[VectorHit]:
    """Hits by score, equal scores by chunk id.

    Qdrant orders tied points by its internal offsets, which differ between two builds of the
    same chunks (e.g. a source built as 1 shard or as 4): a fixed tie order keeps rankings,
    and the fused scores that follow from them, the same for the same content.
    """
    return sorted(hits, key=lambda h: (-h.score, h.chunk_id))


@dataclass(frozen=True)
class PayloadFilter:
    """Restrict a search: any of these sources, any of these tags, and exact metadata values.

    `groups` is the caller's access: a chunk matches only if one of its `access_groups` is among
    them (None: no access restriction; an empty tuple matches nothing).
    """

    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    metadata: dict[str, str | int | bool] = field(default_factory=dict)
    groups: tuple[str, ...] | None = None

    @property
    def empty(self) -> bool:
        """No restriction at all."""
        return not (self.sources or self.tags or self.metadata) and self.groups is None


class VectorStore(Protocol):
    """Collections of dense vectors with payloads; one collection per index version."""

    kind: str

    def create_collection(self, name: str, dimension: int | None, sparse: bool = False) -> None:
        """Create an empty collection: dense (cosine) of `dimension`, and/or sparse (dot)."""
        ...

    def upsert(self, name: str, points: Sequence[VectorPoint]) -> None:
        """Insert or replace points."""
        ...

    def finalize(self, name: str) -> None:
        """Make a finished collection durable and indexed; it is read-only afterwards."""
        ...

    def search(
        self,
        name: str,
        vector: np.ndarray,
        limit: int,
        flt: PayloadFilter | None = None,
        ids_only: bool = False,
    ) -> list[VectorHit]:
        """Nearest points by cosine similarity, best first (`ids_only`: payload = chunk id)."""
        ...

    def search_sparse(
        self,
        name: str,
        vector: SparseVector,
        limit: int,
        flt: PayloadFilter | None = None,
        ids_only: bool = False,
    ) -> list[VectorHit]:
        """Points by sparse dot product (BM25 when weights are precomputed), best first."""
        ...

    def retrieve(self, name: str, chunk_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Payloads of the given chunks that exist."""
        ...

    def count(self, name: str) -> int:
        """Number of points in a collection."""
        ...

    def release(self, name: str) -> None:
        """Free what an open collection holds in this process (it stays on disk/server)."""
        ...

    def collections(self) -> list[str]:
        """Names of existing collections."""
        ...

    def drop_collection(self, name: str) -> None:
        """Delete a collection and its data (no error if absent)."""
        ...

    def point_alias(self, alias: str, name: str) -> None:
        """Atomically make `alias` refer to collection `name`."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...

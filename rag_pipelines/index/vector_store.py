"""The vector store interface: one small protocol, an embedded and a client implementation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

DENSE = "dense"


@dataclass(frozen=True)
class VectorPoint:
    """A chunk's vector and payload; `id` is the chunk id (mapped to a UUID point id)."""

    id: str
    vector: np.ndarray
    payload: dict[str, Any]


@dataclass(frozen=True)
class VectorHit:
    """One search result."""

    chunk_id: str
    score: float
    payload: dict[str, Any]


@dataclass(frozen=True)
class PayloadFilter:
    """Restrict a search: any of these sources, any of these tags, and exact metadata values."""

    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    metadata: dict[str, str | int | bool] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """No restriction at all."""
        return not (self.sources or self.tags or self.metadata)


class VectorStore(Protocol):
    """Collections of dense vectors with payloads; one collection per index version."""

    kind: str

    def create_collection(self, name: str, dimension: int) -> None:
        """Create an empty collection (cosine distance)."""
        ...

    def upsert(self, name: str, points: Sequence[VectorPoint]) -> None:
        """Insert or replace points."""
        ...

    def finalize(self, name: str) -> None:
        """Make a finished collection durable and indexed; it is read-only afterwards."""
        ...

    def search(
        self, name: str, vector: np.ndarray, limit: int, flt: PayloadFilter | None = None
    ) -> list[VectorHit]:
        """Nearest points by cosine similarity, best first."""
        ...

    def count(self, name: str) -> int:
        """Number of points in a collection."""
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

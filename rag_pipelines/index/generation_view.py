"""One version of generation collections, read through the VectorStore interface.

Every read is filtered to the version's points (valid_from <= sequence < valid_to). BM25 points
of a generation hold the term-frequency part alone (their idf would change with every version),
so a sparse query's weights are multiplied by the idf of the version being read: the score is
the version's BM25 with its own idf, the access-class idf included (index/bm25_access.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qdrant_client import models

from rag_pipelines.errors import ConfigError
from rag_pipelines.index.client_store import ClientVectorStore, valid_conditions
from rag_pipelines.index.generation_store import GENERATION_FIELDS
from rag_pipelines.index.manifest import BuildManifest
from rag_pipelines.index.vector_store import (
    PayloadFilter,
    SparseVector,
    VectorHit,
    VectorPoint,
    VectorStore,
)


def version_store(
    store: VectorStore, manifest: BuildManifest, idf: Sequence[float] | None = None
) -> VectorStore:
    """The store as one version sees it: `store` itself unless the version is a generation's."""
    if manifest.generation is None:
        return store
    if not isinstance(store, ClientVectorStore):
        raise ConfigError(
            "sources.yaml",
            [
                f"index.qdrant: version {manifest.version} lives in generation collections on a "
                f"qdrant-client backend, not {store.kind!r}; set backend back, or rebuild"
            ],
        )
    return GenerationView(store, manifest.version, manifest.generation.sequence, idf)


class GenerationView:
    """Reads of one version (sequence number) in generation collections; writes pass through."""

    def __init__(
        self,
        store: ClientVectorStore,
        version: str,
        sequence: int,
        idf: Sequence[float] | None,
    ) -> None:
        self.store = store
        self.version = version
        self.sequence = sequence
        self.idf = idf
        self.kind = store.kind

    def search(
        self,
        name: str,
        vector: np.ndarray,
        limit: int,
        flt: PayloadFilter | None = None,
        ids_only: bool = False,
    ) -> list[VectorHit]:
        """Nearest chunks of this version."""
        return self.store.search(name, vector, limit, flt, ids_only, valid_at=self.sequence)

    def search_sparse(
        self,
        name: str,
        vector: SparseVector,
        limit: int,
        flt: PayloadFilter | None = None,
        ids_only: bool = False,
    ) -> list[VectorHit]:
        """BM25 of this version: query weights times the version's idf."""
        if self.idf is None:
            raise ValueError("a generation's BM25 search needs the version's idf")
        idf = self.idf
        weighted = SparseVector(
            vector.indices, [w * idf[t] for t, w in zip(vector.indices, vector.values, strict=True)]
        )
        return self.store.search_sparse(
            name, weighted, limit, flt, ids_only, valid_at=self.sequence
        )

    def retrieve(self, name: str, chunk_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Payloads of this version's chunks, by chunk id, stamped with this version."""
        if not chunk_ids:
            return {}
        self.store.flush(name)
        flt = models.Filter(
            must=[
                models.FieldCondition(key="chunk_id", match=models.MatchAny(any=list(chunk_ids))),
                *valid_conditions(self.sequence),
            ]
        )
        records, _ = self.store.client.scroll(
            name, scroll_filter=flt, limit=len(chunk_ids), with_payload=True, with_vectors=False
        )
        return {
            str(r.payload["chunk_id"]): self._as_version(r.payload) for r in records if r.payload
        }

    def count(self, name: str) -> int:
        """Points of this version."""
        self.store.flush(name)
        flt = models.Filter(must=list(valid_conditions(self.sequence)))
        return int(self.store.client.count(name, count_filter=flt, exact=True).count)

    def create_collection(self, name: str, dimension: int | None, sparse: bool = False) -> None:
        """Passed through."""
        self.store.create_collection(name, dimension, sparse)

    def upsert(self, name: str, points: Sequence[VectorPoint]) -> None:
        """Passed through."""
        self.store.upsert(name, points)

    def finalize(self, name: str) -> None:
        """Passed through."""
        self.store.finalize(name)

    def release(self, name: str) -> None:
        """Passed through."""
        self.store.release(name)

    def collections(self) -> list[str]:
        """Passed through."""
        return self.store.collections()

    def drop_collection(self, name: str) -> None:
        """Passed through."""
        self.store.drop_collection(name)

    def point_alias(self, alias: str, name: str) -> None:
        """Passed through."""
        self.store.point_alias(alias, name)

    def close(self) -> None:
        """Nothing: the store belongs to whoever opened it."""

    def _as_version(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload as a copy of this version would hold it (lineage names this version)."""
        kept = {k: v for k, v in payload.items() if k not in GENERATION_FIELDS}
        return {**kept, "index_version": self.version}

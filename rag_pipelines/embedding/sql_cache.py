"""The embedding cache in the metadata DB, shared by every machine of a cluster."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rag_pipelines.embedding.cache import batches
from rag_pipelines.state.metadata import VECTORS


class SqlEmbeddingCache:
    """Vectors keyed by (fingerprint, text hash) in `rag_embedding_vectors` (VectorCache)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def close(self) -> None:
        """Connections return to the shared pool on their own."""

    def missing(self, fingerprint: str, hashes: Iterable[str]) -> list[str]:
        """The hashes (deduplicated, in first-seen order) that have no vector yet."""
        wanted = list(dict.fromkeys(hashes))
        present: set[str] = set()
        with self.engine.connect() as conn:
            for batch in batches(wanted):
                rows = conn.execute(
                    sa.select(VECTORS.c.text_hash).where(
                        VECTORS.c.fingerprint == fingerprint, VECTORS.c.text_hash.in_(batch)
                    )
                )
                present.update(r[0] for r in rows)
        return [h for h in wanted if h not in present]

    def get(self, fingerprint: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Vectors for the hashes that are cached."""
        out: dict[str, np.ndarray] = {}
        with self.engine.connect() as conn:
            for batch in batches(list(dict.fromkeys(hashes))):
                rows = conn.execute(
                    sa.select(VECTORS.c.text_hash, VECTORS.c.vector).where(
                        VECTORS.c.fingerprint == fingerprint, VECTORS.c.text_hash.in_(batch)
                    )
                )
                for text_hash, blob in rows:
                    out[text_hash] = np.frombuffer(bytes(blob), dtype=np.float32)
        return out

    def put(self, fingerprint: str, vectors: Mapping[str, np.ndarray]) -> None:
        """Store vectors; a key another machine stored first is kept (same text, same model)."""
        now = time.time()
        rows = [
            {
                "fingerprint": fingerprint,
                "text_hash": h,
                "dim": int(v.shape[0]),
                "vector": np.asarray(v, dtype=np.float32).tobytes(),
                "created_at": now,
            }
            for h, v in vectors.items()
        ]
        if not rows:
            return
        insert = _insert_ignoring_duplicates(self.engine)
        with self.engine.begin() as conn:
            conn.execute(insert, rows)

    def count(self, fingerprint: str | None = None) -> int:
        """Number of cached vectors (for one fingerprint, or all)."""
        query = sa.select(sa.func.count()).select_from(VECTORS)
        if fingerprint is not None:
            query = query.where(VECTORS.c.fingerprint == fingerprint)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())


def _insert_ignoring_duplicates(engine: Engine) -> sa.Insert:
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(VECTORS).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(VECTORS).on_conflict_do_nothing()

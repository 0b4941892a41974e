"""Embedding cache: vectors keyed by (model fingerprint, text hash), in SQLite."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np

_BATCH = 500  # keeps IN (...) lists well under SQLite's parameter limit


class VectorCache(Protocol):
    """Vectors keyed by (model fingerprint, text hash): SQLite here, or the metadata DB."""

    def close(self) -> None:
        """Release the connection."""
        ...

    def missing(self, fingerprint: str, hashes: Iterable[str]) -> list[str]:
        """The hashes (deduplicated, in first-seen order) that have no vector yet."""
        ...

    def get(self, fingerprint: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Vectors for the hashes that are cached."""
        ...

    def put(self, fingerprint: str, vectors: Mapping[str, np.ndarray]) -> None:
        """Store vectors (idempotent)."""
        ...

    def count(self, fingerprint: str | None = None) -> int:
        """Number of cached vectors (for one fingerprint, or all)."""
        ...


class EmbeddingCache:
    """A durable map from (fingerprint, text hash) to a float32 vector.

    A chunk whose text is unchanged is never re-embedded, whatever document, path or version
    it belongs to; a different model fingerprint is a different key space.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors ("
            " fingerprint TEXT NOT NULL, text_hash TEXT NOT NULL, dim INTEGER NOT NULL,"
            " vector BLOB NOT NULL, created_at REAL NOT NULL,"
            " PRIMARY KEY (fingerprint, text_hash)) WITHOUT ROWID"
        )
        self._db.commit()

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def missing(self, fingerprint: str, hashes: Iterable[str]) -> list[str]:
        """The hashes (deduplicated, in first-seen order) that have no vector yet."""
        wanted = list(dict.fromkeys(hashes))
        present: set[str] = set()
        for batch in batches(wanted):
            rows = self._db.execute(
                "SELECT text_hash FROM vectors"
                f" WHERE fingerprint = ? AND text_hash IN ({_marks(batch)})",
                [fingerprint, *batch],
            )
            present.update(r[0] for r in rows)
        return [h for h in wanted if h not in present]

    def get(self, fingerprint: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Vectors for the hashes that are cached."""
        out: dict[str, np.ndarray] = {}
        for batch in batches(list(dict.fromkeys(hashes))):
            rows = self._db.execute(
                "SELECT text_hash, vector FROM vectors"
                f" WHERE fingerprint = ? AND text_hash IN ({_marks(batch)})",
                [fingerprint, *batch],
            )
            for text_hash, blob in rows:
                out[text_hash] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put(self, fingerprint: str, vectors: Mapping[str, np.ndarray]) -> None:
        """Store vectors (idempotent)."""
        now = time.time()
        rows = [
            (fingerprint, h, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes(), now)
            for h, v in vectors.items()
        ]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?)", rows)

    def count(self, fingerprint: str | None = None) -> int:
        """Number of cached vectors (for one fingerprint, or all)."""
        if fingerprint is None:
            return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
        query = "SELECT COUNT(*) FROM vectors WHERE fingerprint = ?"
        return int(self._db.execute(query, [fingerprint]).fetchone()[0])


def batches(items: list[str]) -> Iterator[list[str]]:
    """Slices short enough for an IN (...) list."""
    for i in range(0, len(items), _BATCH):
        yield items[i : i + _BATCH]


def _marks(batch: list[str]) -> str:
    return ",".join("?" * len(batch))

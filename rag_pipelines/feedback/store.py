"""Durable feedback storage (SQLite, WAL: safe with several service workers)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from pydantic import BaseModel


class FeedbackRecord(BaseModel):
    """One judgement of one hit."""

    id: int
    received_at: str
    query: str
    chunk_id: str
    useful: bool
    note: str | None = None
    source: str | None = None
    document_id: str | None = None
    index_version: str | None = None


class FeedbackStore:
    """Append-only feedback table."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " received_at TEXT NOT NULL, query TEXT NOT NULL, chunk_id TEXT NOT NULL,"
            " useful INTEGER NOT NULL, note TEXT, source TEXT, document_id TEXT,"
            " index_version TEXT)"
        )
        self._db.commit()

    def add(
        self,
        received_at: str,
        query: str,
        chunk_id: str,
        useful: bool,
        note: str | None,
        source: str | None,
        document_id: str | None,
        index_version: str | None,
    ) -> FeedbackRecord:
        """Store one judgement and return it with its id."""
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO feedback (received_at, query, chunk_id, useful, note, source,"
                " document_id, index_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    received_at,
                    query,
                    chunk_id,
                    int(useful),
                    note,
                    source,
                    document_id,
                    index_version,
                ),
            )
            row_id = int(cursor.lastrowid or 0)
        return FeedbackRecord(
            id=row_id,
            received_at=received_at,
            query=query,
            chunk_id=chunk_id,
            useful=useful,
            note=note,
            source=source,
            document_id=document_id,
            index_version=index_version,
        )

    def all(self) -> list[FeedbackRecord]:
        """Every judgement, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, received_at, query, chunk_id, useful, note, source, document_id,"
                " index_version FROM feedback ORDER BY id"
            ).fetchall()
        keys = list(FeedbackRecord.model_fields)
        return [
            FeedbackRecord(**dict(zip(keys, (*r[:4], bool(r[4]), *r[5:]), strict=True)))
            for r in rows
        ]

    def close(self) -> None:
        """Close the database."""
        self._db.close()

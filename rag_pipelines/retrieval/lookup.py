"""Find documents and chunks of a version in its snapshot files, without loading them all."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.ingest.models import Document


class SnapshotLookup:
    """Byte offsets of every document and chunk in a version's JSON Lines, built on first use."""

    def __init__(self, documents_path: Path, chunks_path: Path) -> None:
        self.documents_path = documents_path
        self.chunks_path = chunks_path
        self._doc_offsets: dict[str, int] | None = None
        self._chunk_offsets: dict[str, int] = {}
        self._chunk_documents: dict[str, str] = {}
        self._chunks_by_doc: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _index(self) -> None:
        with self._lock:
            if self._doc_offsets is not None:
                return
            offsets: dict[str, int] = {}
            for offset, record in _scan(self.documents_path):
                offsets[f"{record['source']}/{record['id']}"] = offset
            for offset, record in _scan(self.chunks_path):
                self._chunk_offsets[record["id"]] = offset
                self._chunk_documents[record["id"]] = record["document_id"]
                key = f"{record['source']}/{record['document_id']}"
                self._chunks_by_doc.setdefault(key, []).append(
                    {
                        "chunk_id": record["id"],
                        "ordinal": record["ordinal"],
                        "section": record["section"],
                        "pages": record["pages"],
                        "token_count": record["token_count"],
                    }
                )
            self._doc_offsets = offsets

    def chunk_documents(self) -> dict[str, str]:
        """chunk id → document id, for every chunk of the version."""
        self._index()
        return self._chunk_documents

    def document(self, key: str) -> Document | None:
        """A document by `source/document_id`."""
        self._index()
        assert self._doc_offsets is not None
        offset = self._doc_offsets.get(key)
        return (
            None
            if offset is None
            else Document.model_validate_json(_line(self.documents_path, offset))
        )

    def document_keys(self) -> list[str]:
        """Every document key (source/id) of the version."""
        self._index()
        assert self._doc_offsets is not None
        return list(self._doc_offsets)

    def chunk_count(self, key: str) -> int:
        """How many chunks a document has."""
        self._index()
        return len(self._chunks_by_doc.get(key, ()))

    def chunks_of(self, key: str) -> list[dict[str, Any]]:
        """The chunks of a document, in order (ids, sections, pages)."""
        self._index()
        return sorted(self._chunks_by_doc.get(key, []), key=lambda c: c["ordinal"])

    def keys_for(self, document_id: str) -> list[str]:
        """Document keys (source/id) of a document id, in any source."""
        self._index()
        return [k for k in self._chunks_by_doc if k.split("/", 1)[1] == document_id]

    def chunk(self, chunk_id: str) -> Chunk | None:
        """A chunk by id."""
        self._index()
        offset = self._chunk_offsets.get(chunk_id)
        return (
            None if offset is None else Chunk.model_validate_json(_line(self.chunks_path, offset))
        )


def _scan(path: Path) -> list[tuple[int, dict[str, Any]]]:
    out: list[tuple[int, dict[str, Any]]] = []
    with path.open("rb") as handle:
        offset = 0
        for line in handle:
            if line.strip():
                out.append((offset, json.loads(line)))
            offset += len(line)
    return out


def _line(path: Path, offset: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.readline()

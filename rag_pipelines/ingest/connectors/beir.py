"""A BEIR-format folder (corpus.jsonl): each record's `_id` becomes a document id."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from rag_pipelines.beir import CORPUS, BadRecord, CorpusRecord, read_corpus
from rag_pipelines.config.base import resolve_path
from rag_pipelines.config.connectors import ConnectorSettings
from rag_pipelines.hashing import sha256_text
from rag_pipelines.ingest.connectors.base import Listing, SourceItem, iso_time
from rag_pipelines.ingest.models import Document, IngestFailure
from rag_pipelines.shards import shard_of


class BeirConnector(ConnectorSettings):
    """A BEIR-format folder (corpus.jsonl); each `_id` becomes a document id."""

    type: Literal["beir"] = Field(description="beir: a BEIR corpus.jsonl folder.")
    path: Path = Field(description="The BEIR folder (holding corpus.jsonl).")
    limit: int | None = Field(None, ge=1, description="Keep the first N documents.")
    ids: list[str] | None = Field(None, description="Keep only these document ids.")

    @field_validator("path")
    @classmethod
    def _corpus_exists(cls, value: Path, info: ValidationInfo) -> Path:
        path = resolve_path(value, info)
        if not (path / CORPUS).is_file():
            raise ValueError(f"no {CORPUS} in {path} (expected a BEIR-format folder)")
        return path

    def list_documents(self, source: str, previous: Mapping[str, Document]) -> Listing:
        """Every record of the corpus (or the chosen ones); bad lines become failures."""
        corpus = self.path / CORPUS
        modified = iso_time(corpus.stat().st_mtime)
        items: list[SourceItem] = []
        failures: list[IngestFailure] = []
        for record in self._selected():
            if isinstance(record, BadRecord):
                failures.append(
                    IngestFailure(
                        source=source,
                        document_id=_bad_id(record),
                        uri=f"{corpus.as_uri()}#L{record.line_no}",
                        reason=record.reason,
                        error_type=record.error_type,
                    )
                )
                continue
            items.append(
                SourceItem(
                    id=record.id,
                    uri=f"{corpus.as_uri()}#{record.id}",
                    content_hash=sha256_text(record.title, record.text),
                    modified_at=modified,
                    size_bytes=record.size_bytes,
                    title=record.title,
                    text=record.text,
                )
            )
        return Listing(items=items, failures=failures)

    def shard_signatures(self, shards: int) -> list[str]:
        """Per shard: sha256 over its records' ids and content (the corpus is read, not parsed)."""
        digests = [
            hashlib.sha256(f"{shards}\0{self.limit}\0{self.ids}".encode()) for _ in range(shards)
        ]
        for record in self._selected():
            if isinstance(record, BadRecord):
                line = f"{_bad_id(record)}\0{record.reason}\n"
                digests[shard_of(_bad_id(record), shards)].update(line.encode())
            else:
                line = f"{record.id}\0{sha256_text(record.title, record.text)}\n"
                digests[shard_of(record.id, shards)].update(line.encode())
        return [d.hexdigest() for d in digests]

    def _selected(self) -> Iterator[CorpusRecord | BadRecord]:
        """The corpus's records this source keeps (`ids`, then the first `limit`), in order."""
        wanted = set(self.ids) if self.ids is not None else None
        kept = 0
        for record in read_corpus(self.path / CORPUS):
            if isinstance(record, CorpusRecord):
                if wanted is not None and record.id not in wanted:
                    continue
                kept += 1
            yield record
            if self.limit is not None and kept >= self.limit:
                return

    def signature(self) -> str:
        """sha256 over the corpus file's size and mtime, and the selection."""
        stat = (self.path / CORPUS).stat()
        digest = hashlib.sha256(f"{CORPUS}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
        digest.update(repr((self.limit, self.ids)).encode())
        return digest.hexdigest()

    def open(self, item: SourceItem) -> bytes:
        """The record's text (records carry it already)."""
        return (item.text or "").encode("utf-8")

    def available(self) -> bool:
        """True while the corpus file exists."""
        return (self.path / CORPUS).is_file()


def _bad_id(record: BadRecord) -> str:
    """The document id a corpus line that could not be read is reported under."""
    return f"line-{record.line_no}"

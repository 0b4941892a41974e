"""The per-source ledger: every document ever seen, its content hash, times and state."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel

from rag_pipelines.ingest.ingestion import IngestReport

State = Literal["active", "failed", "deleted"]


class LedgerEntry(BaseModel):
    """One document's history in a source (deleted documents stay as tombstones)."""

    id: str
    state: State
    content_hash: str | None = None
    modified_at: str | None = None
    uri: str | None = None
    first_seen_at: str
    changed_at: str
    last_seen_at: str
    deleted_at: str | None = None
    error: str | None = None


def update_ledger(
    previous: Iterable[LedgerEntry], report: IngestReport, now: str
) -> list[LedgerEntry]:
    """The ledger after an ingest run: adds, edits, failures and deletions recorded with times.

    A failed document stays `failed` (with the hash of the version still served, if one is
    kept) and its `changed_at` is when it started failing; `last_seen_at` is the last attempt.
    """
    before = {e.id: e for e in previous}
    entries = dict(before)
    failed = {f.document_id: f for f in report.failures}
    for doc in report.documents:
        if doc.id in failed:
            continue
        old = before.get(doc.id)
        changed = old is None or old.state != "active" or old.content_hash != doc.content_hash
        entries[doc.id] = LedgerEntry(
            id=doc.id,
            state="active",
            content_hash=doc.content_hash,
            modified_at=doc.modified_at,
            uri=doc.uri,
            first_seen_at=old.first_seen_at if old else now,
            changed_at=now if changed else (old.changed_at if old else now),
            last_seen_at=now,
        )
    for failure in failed.values():
        old = before.get(failure.document_id)
        entries[failure.document_id] = LedgerEntry(
            id=failure.document_id,
            state="failed",
            content_hash=old.content_hash if old else None,
            modified_at=old.modified_at if old else None,
            uri=failure.uri,
            first_seen_at=old.first_seen_at if old else now,
            changed_at=now if old is None or old.state != "failed" else old.changed_at,
            last_seen_at=now,
            error=f"{failure.error_type}: {failure.reason}",
        )
    present = {d.id for d in report.documents} | set(failed)
    for doc_id, old in list(entries.items()):
        if doc_id not in present and old.state != "deleted":
            entries[doc_id] = old.model_copy(
                update={"state": "deleted", "deleted_at": now, "changed_at": now}
            )
    return sorted(entries.values(), key=lambda e: e.id)

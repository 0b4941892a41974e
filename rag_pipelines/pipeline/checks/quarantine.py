"""The quarantine: documents that fail to ingest, per source, read from the ledgers.

Every run retries them (their files are listed again); the ledger keeps when each was first
seen, since when it fails and when it was last tried. A quarantined document that once ingested
keeps its last good version in the index until its file is fixed or deleted.
"""

from __future__ import annotations

import json
from urllib.parse import unquote, urlparse

from pydantic import BaseModel

from rag_pipelines.context import PipelineContext
from rag_pipelines.pipeline.build.documents import load_ledger


class QuarantinedDocument(BaseModel):
    """One failing document: where it is, why it fails, and since when."""

    source: str
    document_id: str
    path: str
    error_type: str
    reason: str
    first_seen_at: str
    failed_since: str
    last_tried_at: str
    serving_previous: bool


def load_quarantine(
    ctx: PipelineContext, sources: list[str] | None = None
) -> list[QuarantinedDocument]:
    """Failing documents of the given sources (default: all), by source and id."""
    names = sources if sources is not None else [s.name for s in ctx.config.sources]
    found: list[QuarantinedDocument] = []
    for source in names:
        failed = [e for e in load_ledger(ctx, source) if e.state == "failed"]
        served = _document_ids(ctx, source) if failed else set()
        for entry in failed:
            error_type, _, reason = (entry.error or "").partition(": ")
            found.append(
                QuarantinedDocument(
                    source=source,
                    document_id=entry.id,
                    path=_path(entry.uri) or entry.id,
                    error_type=error_type or "Error",
                    reason=reason or error_type,
                    first_seen_at=entry.first_seen_at,
                    failed_since=entry.changed_at,
                    last_tried_at=entry.last_seen_at,
                    serving_previous=entry.id in served,
                )
            )
    return found


def _path(uri: str | None) -> str | None:
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return uri
    return unquote(parsed.path) + (f"#{parsed.fragment}" if parsed.fragment else "")


def _document_ids(ctx: PipelineContext, source: str) -> set[str]:
    ids: set[str] = set()
    for shard in ctx.shards(source):
        path = ctx.workspace.documents_path(source, shard.folder)
        if path.exists():
            with path.open(encoding="utf-8") as handle:
                ids |= {json.loads(line)["id"] for line in handle if line.strip()}
    return ids

"""Turn stage reports into Dagster metadata an operator can read in the UI."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg

from rag_pipelines.feedback.store import FeedbackRecord
from rag_pipelines.ingest.ledger import LedgerEntry
from rag_pipelines.pipeline.checks.quarantine import QuarantinedDocument

QUARANTINE_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("document", "string"),
        dg.TableColumn("error", "string"),
        dg.TableColumn("reason", "string"),
        dg.TableColumn("first_seen", "string", description="ISO-8601 UTC"),
        dg.TableColumn("failing_since", "string", description="ISO-8601 UTC"),
        dg.TableColumn("last_tried", "string", description="ISO-8601 UTC"),
        dg.TableColumn("serving", "string", description="what the index serves meanwhile"),
    ]
)


def quarantine_table(entries: list[QuarantinedDocument], limit: int = 50) -> dg.TableMetadataValue:
    """A table of a source's quarantined documents: why, since when, last tried."""
    rows = [
        dg.TableRecord(
            {
                "document": e.document_id,
                "error": e.error_type,
                "reason": e.reason[:200],
                "first_seen": e.first_seen_at,
                "failing_since": e.failed_since,
                "last_tried": e.last_tried_at,
                "serving": "last good version" if e.serving_previous else "nothing",
            }
        )
        for e in entries[:limit]
    ]
    if len(entries) > limit:
        more = {c.name: None for c in QUARANTINE_SCHEMA.columns}
        rows.append(dg.TableRecord({**more, "document": f"… {len(entries) - limit} more"}))
    return dg.MetadataValue.table(rows, schema=QUARANTINE_SCHEMA)


def quarantine_times(entries: list[QuarantinedDocument]) -> dict[str, dg.MetadataValue]:
    """When the longest-failing quarantined document started failing (nothing if none)."""
    if not entries:
        return {}
    return {"quarantined_since": timestamp(min(e.failed_since for e in entries))}


def ledger_times(entries: list[LedgerEntry]) -> dict[str, dg.MetadataValue]:
    """When the source's first document was seen and when one last changed (added, edited,
    failed or deleted); nothing for an empty ledger."""
    if not entries:
        return {}
    return {
        "first_seen_at": timestamp(min(e.first_seen_at for e in entries)),
        "last_change_at": timestamp(max(e.changed_at for e in entries)),
    }


FEEDBACK_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("received", "string", description="ISO-8601 UTC"),
        dg.TableColumn("useful", "bool"),
        dg.TableColumn("query", "string"),
        dg.TableColumn("document", "string"),
    ]
)


def recent_feedback(records: list[FeedbackRecord]) -> dict[str, dg.MetadataValue]:
    """The most recent judgements (newest first) as a table, and when the latest arrived."""
    rows = [
        dg.TableRecord(
            {
                "received": r.received_at,
                "useful": r.useful,
                "query": r.query[:80],
                "document": r.document_id,
            }
        )
        for r in records
    ]
    latest = {"latest_judgement_at": timestamp(records[0].received_at)} if records else {}
    return {"recent": dg.MetadataValue.table(rows, schema=FEEDBACK_SCHEMA), **latest}


def embedded_png(path: Path) -> dg.MetadataValue:
    """A PNG the UI shows inline (Markdown with a data: URL), not a path it cannot open."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return dg.MetadataValue.md(f"![{path.name}](data:image/png;base64,{data})")


def timestamp(iso: str) -> dg.MetadataValue:
    """An ISO-8601 time as a timestamp the UI renders in the viewer's time zone."""
    return dg.MetadataValue.timestamp(datetime.fromisoformat(iso))


def seconds(value: float) -> dg.MetadataValue:
    """Seconds, rounded for display."""
    return dg.MetadataValue.float(round(value, 3))


def as_metadata(values: dict[str, Any]) -> dict[str, Any]:
    """Drop None values (Dagster metadata has no null)."""
    return {k: v for k, v in values.items() if v is not None}

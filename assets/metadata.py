"""Turn stage reports into Dagster metadata an operator can read in the UI."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg

from rag_pipelines.pipeline.checks.quarantine import QuarantinedDocument


def quarantine_table(entries: list[QuarantinedDocument], limit: int = 50) -> dg.MetadataValue:
    """A Markdown table of a source's quarantined documents: why, since when, last tried."""
    if not entries:
        return dg.MetadataValue.md("Nothing quarantined.")
    rows = [
        "| document | error | reason | first seen | failing since | last tried | serving |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for e in entries[:limit]:
        reason = e.reason.replace("|", "\\|")[:200]
        serving = "last good version" if e.serving_previous else "nothing"
        rows.append(
            f"| {e.document_id} | {e.error_type} | {reason} | {e.first_seen_at} | "
            f"{e.failed_since} | {e.last_tried_at} | {serving} |"
        )
    if len(entries) > limit:
        rows.append(f"| … {len(entries) - limit} more | | | | | | |")
    return dg.MetadataValue.md("\n".join(rows))


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

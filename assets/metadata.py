"""Turn stage reports into Dagster metadata an operator can read in the UI."""

from __future__ import annotations

from typing import Any

import dagster as dg

from rag_pipelines.ingest.models import IngestFailure


def failures_table(failures: list[IngestFailure], limit: int = 50) -> dg.MetadataValue:
    """A Markdown table of documents that failed, with reasons."""
    if not failures:
        return dg.MetadataValue.md("No failures.")
    rows = ["| document | error | reason |", "| --- | --- | --- |"]
    for f in failures[:limit]:
        reason = f.reason.replace("|", "\\|")[:200]
        rows.append(f"| {f.document_id} | {f.error_type} | {reason} |")
    if len(failures) > limit:
        rows.append(f"| … {len(failures) - limit} more | | |")
    return dg.MetadataValue.md("\n".join(rows))


def seconds(value: float) -> dg.MetadataValue:
    """Seconds, rounded for display."""
    return dg.MetadataValue.float(round(value, 3))


def as_metadata(values: dict[str, Any]) -> dict[str, Any]:
    """Drop None values (Dagster metadata has no null)."""
    return {k: v for k, v in values.items() if v is not None}

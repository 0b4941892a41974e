"""Metadata the Dagster UI can render: inline images, timestamps, announced sensors."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

import dagster as dg

from assets.definitions import build_definitions
from assets.metadata import (
    embedded_png,
    ledger_times,
    quarantine_table,
    quarantine_times,
    recent_feedback,
    timestamp,
)
from rag_pipelines.config import load_sources_file
from rag_pipelines.feedback.store import FeedbackRecord
from rag_pipelines.ingest.ledger import LedgerEntry
from rag_pipelines.pipeline.checks.quarantine import QuarantinedDocument

REPO = Path(__file__).resolve().parents[2]


def test_a_plot_is_embedded_not_a_path(tmp_path: Path) -> None:
    """Regression: the experiments plot was a file path the UI cannot show."""
    png = tmp_path / "plot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(64)))
    value = embedded_png(png)
    assert isinstance(value, dg.MarkdownMetadataValue)
    encoded = value.value.split("data:image/png;base64,", 1)[1].rstrip(")")
    assert base64.b64decode(encoded) == png.read_bytes()


def test_times_are_timestamps() -> None:
    iso = "2026-12-01T10:45:34.908+00:00"
    value = timestamp(iso)
    assert isinstance(value, dg.TimestampMetadataValue)
    assert value.value == datetime.fromisoformat(iso).timestamp()


def test_sensors_say_they_run_by_default() -> None:
    """The sensors start with the daemon; the UI's sensor list says so."""
    defs = build_definitions(load_sources_file(REPO / "sources.yaml"))
    for sensor in defs.sensors or []:
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.description and sensor.description.startswith("Runs as soon as a daemon")


def _quarantined(doc: str, since: str) -> QuarantinedDocument:
    return QuarantinedDocument(
        source="notes",
        document_id=doc,
        path=f"/data/{doc}",
        error_type="ParseError",
        reason="bad | table",
        first_seen_at="2026-11-30T08:00:00.000+00:00",
        failed_since=since,
        last_tried_at="2026-12-01T10:00:00.000+00:00",
        serving_previous=doc == "a.pdf",
    )


def test_quarantine_is_a_table_with_a_schema() -> None:
    """Regression: the quarantine was a Markdown table, not table metadata."""
    entries = [
        _quarantined("a.pdf", "2026-12-01T09:00:00.000+00:00"),
        _quarantined("b.pdf", "2026-11-30T09:00:00.000+00:00"),
    ]
    table = quarantine_table(entries, limit=1)
    assert isinstance(table, dg.TableMetadataValue)
    assert table.schema.columns[0].name == "document"
    first, more = table.records
    assert first.data["document"] == "a.pdf" and first.data["reason"] == "bad | table"
    assert first.data["serving"] == "last good version"
    assert more.data["document"] == "… 1 more"
    since = quarantine_times(entries)["quarantined_since"]
    assert isinstance(since, dg.TimestampMetadataValue)
    assert since.value == datetime.fromisoformat("2026-11-30T09:00:00+00:00").timestamp()
    assert quarantine_times([]) == {}
    assert quarantine_table([]).records == []


def test_recent_feedback_is_a_table_and_the_latest_a_timestamp() -> None:
    """Regression: the feedback asset's `recent` was a Markdown table."""
    record = FeedbackRecord(
        id=1,
        received_at="2026-12-01T10:45:34.908+00:00",
        query="what is krill",
        chunk_id="c1",
        useful=True,
        document_id="krill.md",
    )
    meta = recent_feedback([record])
    table = meta["recent"]
    assert isinstance(table, dg.TableMetadataValue)
    assert table.records[0].data == {
        "received": record.received_at,
        "useful": True,
        "query": "what is krill",
        "document": "krill.md",
    }
    assert isinstance(meta["latest_judgement_at"], dg.TimestampMetadataValue)
    assert set(recent_feedback([])) == {"recent"}


def test_ledger_times_are_timestamps() -> None:
    entries = [
        LedgerEntry(
            id=doc,
            state="active",
            first_seen_at=f"2026-11-{day}T08:00:00+00:00",
            changed_at=f"2026-12-{day}T08:00:00+00:00",
            last_seen_at="2026-12-05T08:00:00+00:00",
        )
        for doc, day in (("a", "02"), ("b", "01"))
    ]
    times = ledger_times(entries)
    assert times["first_seen_at"] == timestamp("2026-11-01T08:00:00+00:00")
    assert times["last_change_at"] == timestamp("2026-12-02T08:00:00+00:00")
    assert ledger_times([]) == {}

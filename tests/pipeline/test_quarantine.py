"""The quarantine: failing documents per source with reason, path and times, from the ledger."""

from __future__ import annotations

from pathlib import Path

import yaml

from rag_pipelines.config import load_sources_file
from rag_pipelines.context import PipelineContext
from rag_pipelines.pipeline.build.documents import ingest
from rag_pipelines.pipeline.checks.quarantine import load_quarantine

GOOD = "# Parking\n\nVisitors park on level two.\n"


def _context(tmp_path: Path) -> PipelineContext:
    (tmp_path / "docs").mkdir()
    data = {
        "pipeline": {"name": "q", "data_dir": str(tmp_path / "data")},
        "sources": [{"name": "docs", "connector": {"type": "filesystem", "root": "docs"}}],
    }
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump(data))
    return PipelineContext(load_sources_file(tmp_path / "sources.yaml", env={}))


def test_quarantine_records_reason_path_and_times(tmp_path: Path) -> None:
    """A failing file is listed with its reason and path; failing-since holds, last-tried moves;
    a file that turns bad is listed as still serving its last good version; a fix clears it."""
    ctx = _context(tmp_path)
    docs = tmp_path / "docs"
    (docs / "scan.pdf").write_bytes(b"not a pdf at all")
    (docs / "parking.md").write_text(GOOD)
    ingest(ctx, "docs")
    [first] = load_quarantine(ctx)
    assert (first.source, first.document_id, first.error_type) == (
        "docs",
        "scan.pdf",
        "WrongFormat",
    )
    assert first.reason.startswith("not a PDF")
    assert first.path == str(docs / "scan.pdf")
    assert first.first_seen_at == first.failed_since == first.last_tried_at
    assert not first.serving_previous

    (docs / "parking.md").write_bytes(b"\x00" * 64)
    ingest(ctx, "docs")
    parking, scan = load_quarantine(ctx)
    assert (scan.first_seen_at, scan.failed_since) == (first.first_seen_at, first.failed_since)
    assert scan.last_tried_at > first.last_tried_at
    assert parking.document_id == "parking.md" and parking.serving_previous
    assert parking.first_seen_at == first.first_seen_at < parking.failed_since
    ingest(ctx, "docs")
    still = load_quarantine(ctx)[0]
    assert (still.failed_since, still.serving_previous) == (parking.failed_since, True)
    assert still.last_tried_at > parking.last_tried_at

    (docs / "parking.md").write_text(GOOD)
    (docs / "scan.pdf").unlink()
    ingest(ctx, "docs")
    assert load_quarantine(ctx) == []

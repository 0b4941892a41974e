"""The quarantine as operators see it: the documents asset's metadata in the Dagster UI, the
data-quality check's count, and `rag-pipelines status`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from assets.runs import metadata_of
from tests.reliability.conftest import Built
from tests.reliability.corpus import BAD


def test_documents_asset_shows_the_quarantine(built: Built) -> None:
    """The documents materialization carries the count and a table row per quarantined file."""
    metadata = metadata_of(built.results[0], "documents")
    assert (metadata["failed"], metadata["quarantined"]) == (len(BAD), len(BAD))
    table = metadata["quarantine"]
    assert isinstance(table, dg.TableMetadataValue)
    assert [c.name for c in table.schema.columns][:4] == [
        "document",
        "error",
        "reason",
        "first_seen",
    ]
    rows = {r.data["document"]: r.data["error"] for r in table.records}
    for name, error_type in BAD.items():
        assert rows[name] == error_type


def test_data_quality_check_counts_failed_documents(built: Built) -> None:
    """The data_quality check of the built version reports how many documents failed."""
    [evaluation] = [
        e for e in built.results[-1].get_asset_check_evaluations() if e.check_name == "data_quality"
    ]
    assert evaluation.passed
    assert evaluation.metadata["failed_documents"].value == len(BAD)


def _status(sources: Path, *options: str) -> str:
    cli = Path(sys.executable).with_name("rag-pipelines")
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1"}
    result = subprocess.run(
        [str(cli), "-c", str(sources), "status", *options],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_status_shows_the_quarantine(built: Built) -> None:
    """`status` counts quarantined documents; `status --quarantine` lists each with its reason."""
    sources = built.tmp / "sources.yaml"
    assert f"quarantine: {len(BAD)} document(s) fail to ingest" in _status(sources)
    listing = _status(sources, "--quarantine")
    assert f"quarantine: {len(BAD)} document(s)" in listing
    for name, error_type in BAD.items():
        line = next(row for row in listing.splitlines() if f"/{name} " in row)
        assert error_type in line
    assert "the file is empty (0 bytes)" in listing

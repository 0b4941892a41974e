"""A document that starts failing keeps its last good version; only a file's absence deletes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest import ingestion
from rag_pipelines.ingest.ingestion import IngestReport, ingest_source
from rag_pipelines.ingest.models import Document

POLICY = "# Policy\n\nVisitors sign in at the front desk.\n"
OTHER = "# Other\n\nThe canteen opens at noon.\n"


def _source(root: Path) -> SourceConfig:
    return SourceConfig.model_validate(
        {"name": "docs", "connector": {"type": "filesystem", "root": str(root)}}
    )


def _by_id(report: IngestReport) -> dict[str, Document]:
    return {d.id: d for d in report.documents}


@pytest.fixture
def first(tmp_path: Path) -> IngestReport:
    """A clean first ingest of two files, one in a folder."""
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "policy.md").write_text(POLICY)
    (tmp_path / "other.md").write_text(OTHER)
    report = ingest_source(_source(tmp_path), {})
    assert report.failures == []
    return report


def test_file_that_turns_corrupt_keeps_its_last_good_version(
    tmp_path: Path, first: IngestReport
) -> None:
    """Binary junk written over a good file is a failure; the good version stays indexed."""
    (tmp_path / "team" / "policy.md").write_bytes(b"\x00\x01garbage\x00" * 100)
    second = ingest_source(_source(tmp_path), _by_id(first))
    [failure] = second.failures
    assert (failure.document_id, failure.error_type) == ("team/policy.md", "WrongFormat")
    assert (second.kept, second.deleted) == (["team/policy.md"], [])
    assert _by_id(second)["team/policy.md"] == _by_id(first)["team/policy.md"]

    (tmp_path / "team" / "policy.md").write_text(POLICY.replace("front desk", "east door"))
    third = ingest_source(_source(tmp_path), _by_id(second))
    assert (third.failures, third.kept, third.changed) == ([], [], ["team/policy.md"])
    assert "east door" in _by_id(third)["team/policy.md"].text


def test_vanished_file_is_kept_then_deleted(
    tmp_path: Path, first: IngestReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file deleted mid-run keeps its document this run; the next run records the delete."""
    (tmp_path / "team" / "policy.md").write_text(POLICY + "\nNew paragraph.\n")
    real = ingestion.list_source

    def list_then_delete(source: SourceConfig, previous: Any = None) -> Any:
        listing = real(source, previous)
        (tmp_path / "team" / "policy.md").unlink()
        return listing

    monkeypatch.setattr(ingestion, "list_source", list_then_delete)
    second = ingest_source(_source(tmp_path), _by_id(first))
    monkeypatch.setattr(ingestion, "list_source", real)
    assert [f.error_type for f in second.failures] == ["FileVanished"]
    assert (second.kept, second.deleted) == (["team/policy.md"], [])

    third = ingest_source(_source(tmp_path), _by_id(second))
    assert (third.failures, third.deleted) == ([], ["team/policy.md"])


@pytest.fixture
def unlistable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The `team` folder cannot be listed (os.scandir fails on it, as with chmod 000)."""
    folder = tmp_path / "team"
    real = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    yield folder


def test_unlistable_folder_keeps_its_documents(
    tmp_path: Path, first: IngestReport, unlistable: Path
) -> None:
    """Regression: a folder that could not be listed was silently skipped, so every document
    in it was deleted from the index."""
    second = ingest_source(_source(tmp_path), _by_id(first))
    [failure] = second.failures
    assert (failure.document_id, failure.error_type) == ("team/", "PermissionError")
    assert "cannot list the folder" in failure.reason
    assert (second.kept, second.deleted, second.unchanged) == (["team/policy.md"], [], ["other.md"])
    assert set(_by_id(second)) == {"team/policy.md", "other.md"}

"""Incremental ingestion: added/changed/deleted/unchanged, and bad files as failures."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest import ingestion
from rag_pipelines.ingest.ingestion import IngestReport, ingest_source
from rag_pipelines.ingest.models import Document

FILES = {
    "guide.md": "# Onboarding Guide\n\nNew staff get their laptops and accounts on day one.\n",
    "notes.txt": "Remember to rotate the keys every ninety days and log each rotation.\n",
    "team/faq.md": "## FAQ\n\nHow do I reset my password? Use the self-service portal any time.\n",
}


def _source(root: Path, **connector: Any) -> SourceConfig:
    return SourceConfig.model_validate(
        {"name": "docs", "connector": {"type": "filesystem", "root": str(root), **connector}}
    )


def _write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def _by_id(report: IngestReport) -> dict[str, Document]:
    return {d.id: d for d in report.documents}


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Ids of the items actually parsed (the real parser still runs)."""
    calls: list[str] = []
    real = ingestion.parse_source_item

    def counting(item: Any, source: str, *args: Any) -> Document:
        calls.append(item.id)
        return real(item, source, *args)

    monkeypatch.setattr(ingestion, "parse_source_item", counting)
    return calls


def test_incremental_runs(tmp_path: Path, parses: list[str]) -> None:
    """Each run reports what changed and parses only new or edited files."""
    root = _write(tmp_path, dict(FILES))
    source = _source(root)

    first = ingest_source(source, {})
    assert sorted(first.added) == sorted(FILES)
    assert (first.changed, first.deleted, first.unchanged, first.failures) == ([], [], [], [])
    assert sorted(parses) == sorted(FILES)
    assert "laptops" in _by_id(first)["guide.md"].text

    parses.clear()
    second = ingest_source(source, _by_id(first))
    assert sorted(second.unchanged) == sorted(FILES)
    assert (second.added, second.changed, second.deleted) == ([], [], [])
    assert parses == []
    assert _by_id(second) == _by_id(first)

    (root / "notes.txt").write_text("Keys now rotate every thirty days, by the security team.\n")
    third = ingest_source(source, _by_id(second))
    assert (third.changed, sorted(third.unchanged)) == (["notes.txt"], ["guide.md", "team/faq.md"])
    assert parses == ["notes.txt"]
    assert "thirty days" in _by_id(third)["notes.txt"].text

    parses.clear()
    (root / "team" / "faq.md").unlink()
    _write(root, {"new.md": "# New\n\nA brand new page about parking permits for visitors.\n"})
    fourth = ingest_source(source, _by_id(third))
    assert (fourth.added, fourth.deleted) == (["new.md"], ["team/faq.md"])
    assert sorted(fourth.unchanged) == ["guide.md", "notes.txt"]
    assert parses == ["new.md"]
    assert sorted(_by_id(fourth)) == ["guide.md", "new.md", "notes.txt"]


def test_touch_without_edit_is_unchanged(tmp_path: Path, parses: list[str]) -> None:
    """A new mtime with the same bytes is not re-parsed, but the recorded time follows."""
    root = _write(tmp_path, {"guide.md": FILES["guide.md"]})
    first = ingest_source(_source(root), {})
    parses.clear()
    os.utime(root / "guide.md", (1_000_000_000, 1_000_000_000))
    second = ingest_source(_source(root), _by_id(first))
    assert (second.unchanged, parses) == (["guide.md"], [])
    assert second.documents[0].modified_at == "2001-09-09T01:46:40+00:00"
    assert second.documents[0].sections == first.documents[0].sections


def test_documents_carry_provenance(tmp_path: Path) -> None:
    """A parsed document keeps its source, uri, hash, size and a title."""
    root = _write(tmp_path, {"guide.md": FILES["guide.md"]})
    [doc] = ingest_source(_source(root), {}).documents
    assert (doc.id, doc.source, doc.uri) == ("guide.md", "docs", (root / "guide.md").as_uri())
    assert doc.size_bytes == len(FILES["guide.md"].encode())
    assert doc.content_hash == hashlib.sha256(FILES["guide.md"].encode()).hexdigest()
    assert doc.title == "Onboarding Guide"
    assert doc.sections[0].path == ["Onboarding Guide"]


BAD_FILES: dict[str, str | bytes] = {
    "broken.pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage without xref\n",
    "empty.docx": b"",
    "junk.html": bytes(range(256)) * 16,
    "notes.xyz": "a format nobody parses\n",
}


def test_bad_files_become_failures(tmp_path: Path) -> None:
    """Corrupt, empty, binary and unsupported files are recorded; the good file still ingests."""
    root = _write(tmp_path, {"good.md": FILES["guide.md"], **BAD_FILES})
    report = ingest_source(_source(root), {})
    assert [d.id for d in report.documents] == ["good.md"]
    assert report.added == ["good.md"]
    failures = {f.document_id: f for f in report.failures}
    assert sorted(failures) == sorted(BAD_FILES)
    for failure in failures.values():
        assert failure.source == "docs"
        assert failure.error_type
        assert failure.reason.strip()
        assert "\n" not in failure.reason
        assert len(failure.reason) <= 500
    assert failures["notes.xyz"].error_type == "UnsupportedFormat"
    assert failures["notes.xyz"].reason == "no parser for .xyz"
    assert (failures["empty.docx"].error_type, failures["empty.docx"].reason) == (
        "EmptyFile",
        "the file is empty (0 bytes)",
    )


def test_one_line_text_file_is_a_document(tmp_path: Path) -> None:
    """Regression: a one-line .txt (parsed as a lone Title) failed as "no text found"."""
    root = _write(tmp_path, {"short.txt": "Quarterly Results\n"})
    report = ingest_source(_source(root), {})
    assert report.failures == []
    assert [d.text for d in report.documents] == ["Quarterly Results"]


def test_progress_is_reported_per_item(tmp_path: Path) -> None:
    """The progress callback sees (done, total) for every listed item."""
    root = _write(tmp_path, dict(FILES))
    seen: list[tuple[int, int]] = []
    ingest_source(_source(root), {}, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_beir_records_ingest_without_unstructured(tmp_path: Path) -> None:
    """BEIR records become one-section documents; a record without text is a failure."""
    lines = [
        {"_id": "d1", "title": "Aspirin", "text": "Aspirin lowers fever."},
        {"_id": "d2", "title": "Empty", "text": "  "},
    ]
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    source = SourceConfig.model_validate(
        {"name": "corpus", "connector": {"type": "beir", "path": str(tmp_path)}}
    )
    report = ingest_source(source, {})
    [doc] = report.documents
    assert (doc.id, doc.title, doc.text, doc.element_types) == (
        "d1",
        "Aspirin",
        "Aspirin lowers fever.",
        ["NarrativeText"],
    )
    [failure] = report.failures
    assert (failure.document_id, failure.error_type) == ("d2", "EmptyDocument")

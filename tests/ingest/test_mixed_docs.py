"""Every file of the shared mixed-format set ingests to text or a readable failure."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest.ingestion import IngestReport, ingest_source

pytestmark = pytest.mark.slow  # parses 23 real files; the epub alone takes ~7 s

EXCLUDE = ["*.tsv", "README.md", "UNSTRUCTURED-REPO-LICENSE.md"]
FORMATS = ["pdf", "docx", "html", "md", "pptx", "eml", "txt", "epub", "xlsx"]


@pytest.fixture(scope="module")
def report(mixed_docs_dir: Path) -> IngestReport:
    """One ingest of the whole folder, shared by the tests below."""
    source = SourceConfig.model_validate(
        {
            "name": "mixed",
            "connector": {
                "type": "filesystem",
                "root": str(mixed_docs_dir),
                "include": ["**/*"],
                "exclude": EXCLUDE,
            },
        }
    )
    return ingest_source(source, {})


def _expected_ids(root: Path) -> list[str]:
    top_level_excluded = {"PROVENANCE.tsv", *EXCLUDE[1:]}
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).as_posix() not in top_level_excluded
    )


def test_every_file_is_a_document_or_a_failure(report: IngestReport, mixed_docs_dir: Path) -> None:
    """No file is lost silently: each becomes exactly one document or one failure."""
    ids = [d.id for d in report.documents] + [f.document_id for f in report.failures]
    assert sorted(ids) == _expected_ids(mixed_docs_dir)
    assert sorted(report.added) == sorted(d.id for d in report.documents)


def test_documents_have_text_and_provenance(report: IngestReport, mixed_docs_dir: Path) -> None:
    """Each document has non-empty text, a title, and the hash of its file's bytes."""
    for doc in report.documents:
        assert doc.text.strip(), doc.id
        assert doc.title.strip(), doc.id
        data = (mixed_docs_dir / doc.id).read_bytes()
        assert doc.content_hash == hashlib.sha256(data).hexdigest(), doc.id
        assert doc.size_bytes == len(data)


def test_failures_are_readable(report: IngestReport) -> None:
    """Any failure names its file and gives a one-line reason."""
    for failure in report.failures:
        assert failure.source == "mixed"
        assert failure.reason.strip() and "\n" not in failure.reason, failure
        assert failure.error_type, failure


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_yields_text(report: IngestReport, fmt: str) -> None:
    """At least one document of each format parses to real text."""
    texts = [d.text for d in report.documents if d.id.endswith(f".{fmt}")]
    assert texts, f"no .{fmt} document ingested; failures: {report.failures}"
    assert max(len(t) for t in texts) >= 100


def test_pdfs_have_page_numbers(report: IngestReport) -> None:
    """Every PDF document knows its pages, and page offsets fall inside the text."""
    pdfs = [d for d in report.documents if d.id.endswith(".pdf")]
    assert len(pdfs) == 5
    for doc in pdfs:
        assert doc.pages and doc.pages[0] >= 1, doc.id
        for section in doc.sections:
            for offset, _ in section.page_starts:
                assert 0 <= offset < len(section.text), doc.id
    multi = next(d for d in pdfs if d.id == "pdf/multi-column-2p.pdf")
    assert multi.pages == [1, 2]


def test_page_furniture_is_dropped(report: IngestReport) -> None:
    """Header and footer elements are recognised but kept out of the section text."""
    doc = next(d for d in report.documents if d.id == "docx/handbook-1p.docx")
    assert {"Header", "Footer"} <= set(doc.element_types)
    assert "US Trustee Handbook" not in doc.text  # the docx's running header
    assert "CHAPTER" in doc.text.upper()

"""Bad input, parsed for real: each broken file is a recorded failure; every other file ingests."""

from __future__ import annotations

import io
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfWriter

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest import ingestion
from rag_pipelines.ingest.ingestion import IngestReport, ingest_source
from tests.conftest import REPO

PDF = REPO / "examples" / "policies" / "travel-policy.pdf"
MAX_MB = 0.5  # big.txt is over it; the 10,000-level HTML (~110 KB) is not
LATIN1 = "Café crème brûlée costs five euros at the station café.\n"
CP1252 = "# Pricing\n\nThe “basic” plan costs 5€ – a bargain.\n"
UTF16 = "A file saved as UTF-16 with a byte order mark: naïve résumé.\n"

# file -> (error type, a fragment of the recorded reason)
BAD: dict[str, tuple[str, str]] = {
    "truncated.pdf": ("CorruptFile", "truncated"),
    "corrupt.pdf": ("CorruptFile", "damaged"),
    "password.pdf": ("PasswordProtected", "password-protected"),
    "empty.pdf": ("EmptyFile", "0 bytes"),
    "junk.pdf": ("WrongFormat", "not a PDF"),
    "junk.docx": ("WrongFormat", "not a ZIP archive"),
    "junk.html": ("WrongFormat", "binary data"),
    "big.txt": ("TooLarge", "over max_file_mb"),
    "deep.html": ("TooDeeplyNested", "nested deeper than 255 levels"),
    "deep.md": ("TooDeeplyNested", "nested deeper than 255 levels"),
    "loop_a.md": ("RuntimeError", "Symlink loop"),
    "loop_b.md": ("RuntimeError", "Symlink loop"),
    "unreadable.md": ("PermissionError", "Permission denied"),
    "vanished.md": ("FileVanished", "deleted or moved"),
    "leak.md": ("OutsideRoot", "outside the source root"),
    "escape": ("OutsideRoot", "directory link resolves outside"),
}
GOOD = {
    "guide.md": "# Guide\n\nNew staff get their laptops on day one.\n",
    "team/notes.txt": "Rotate the keys every ninety days and log each rotation.\n",
}


def _encrypted_pdf(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=str(PDF))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _write_tree(root: Path, outside: Path) -> None:
    rng = random.Random(6)
    junk = bytes(rng.randrange(256) for _ in range(4096))
    pdf = PDF.read_bytes()
    files: dict[str, bytes] = {rel: text.encode() for rel, text in GOOD.items()}
    files |= {
        "latin1.txt": LATIN1.encode("latin-1"),
        "cp1252.md": CP1252.encode("cp1252"),
        "utf16.txt": UTF16.encode("utf-16"),
        "owner-only.pdf": _encrypted_pdf(""),  # empty user password: readable by anyone
        "truncated.pdf": pdf[: len(pdf) // 2],
        "corrupt.pdf": pdf[:200] + junk + pdf[-200:],
        "password.pdf": _encrypted_pdf("secret"),
        "empty.pdf": b"",
        "junk.pdf": junk,
        "junk.docx": junk,
        "junk.html": junk,
        "big.txt": b"lorem ipsum " * 50_000,
        "deep.html": b"<html><body>" + b"<div>" * 10000 + b"owls" + b"</div>" * 10000,
        "deep.md": b"intro\n\n" + b">" * 300 + b" a quote too deep\n",
        "unreadable.md": b"# Secret\n\nNobody may read this.\n",
        "vanished.md": b"# Gone\n\nThis file is deleted after it is listed.\n",
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "loop_a.md").symlink_to(root / "loop_b.md")
    (root / "loop_b.md").symlink_to(root / "loop_a.md")
    (outside / "secret.md").write_text("# Outside\n\nNot part of the source.\n")
    (root / "leak.md").symlink_to(outside / "secret.md")
    (root / "escape").symlink_to(outside, target_is_directory=True)


def _unreadable(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Make `path` unreadable: chmod 000, or (as root, whom chmod does not stop) fail its reads
    with the OSError open(2) gives."""
    if os.geteuid() != 0:
        path.chmod(0)
        return
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)


def _source(root: Path, **connector: Any) -> SourceConfig:
    return SourceConfig.model_validate(
        {"name": "docs", "connector": {"type": "filesystem", "root": str(root), **connector}}
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestReport]:
    """One ingest of a source holding every kind of bad file next to good ones."""
    root = tmp_path_factory.mktemp("bad-input")
    outside = tmp_path_factory.mktemp("outside")
    _write_tree(root, outside)
    real_list = ingestion.list_source

    def list_then_delete(source: SourceConfig, previous: Any = None) -> Any:
        listing = real_list(source, previous)
        (root / "vanished.md").unlink()  # gone between listing and parsing
        return listing

    with pytest.MonkeyPatch.context() as monkeypatch:
        _unreadable(monkeypatch, root / "unreadable.md")
        monkeypatch.setattr(ingestion, "list_source", list_then_delete)
        result = ingest_source(_source(root, max_file_mb=MAX_MB), {})
    yield result
    (root / "unreadable.md").chmod(0o644)


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_is_a_recorded_failure(report: IngestReport, name: str) -> None:
    """The file's failure names the source, the path and a readable reason."""
    failures = {f.document_id: f for f in report.failures}
    error_type, fragment = BAD[name]
    failure = failures[name]
    assert (failure.source, failure.error_type) == ("docs", error_type)
    assert fragment in failure.reason
    assert failure.uri.endswith(f"/{name}")
    assert "\n" not in failure.reason


def test_every_other_file_is_ingested(report: IngestReport) -> None:
    """Nothing but the bad files fails, and each good file is a document with its text."""
    assert sorted(f.document_id for f in report.failures) == sorted(BAD)
    documents = {d.id: d for d in report.documents}
    expected = {*GOOD, "latin1.txt", "cp1252.md", "utf16.txt", "owner-only.pdf"}
    assert set(documents) == expected
    for rel, text in GOOD.items():
        assert text.splitlines()[-1] in documents[rel].text
    assert "Travel Policy" in documents["owner-only.pdf"].title


def test_non_utf8_text_is_decoded_not_failed(report: IngestReport) -> None:
    """Text that is not UTF-8 is read with the fallback encoding (cp1252), and says so."""
    documents = {d.id: d for d in report.documents}
    assert documents["latin1.txt"].text == LATIN1.strip()
    assert documents["cp1252.md"].text == "The “basic” plan costs 5€ – a bargain."
    assert documents["utf16.txt"].text == UTF16.strip()
    assert documents["cp1252.md"].metadata["encoding"] == "cp1252"
    assert documents["utf16.txt"].metadata["encoding"] == "utf-16"
    assert "encoding" not in documents["guide.md"].metadata


def test_fallback_encoding_is_configurable(tmp_path: Path) -> None:
    """`fallback_encoding` decodes a source's legacy text (here Cyrillic KOI8-R)."""
    text = "Отпуск сотрудника длится двадцать восемь дней.\n"
    (tmp_path / "ru.txt").write_bytes(text.encode("koi8_r"))
    [document] = ingest_source(_source(tmp_path, fallback_encoding="koi8_r"), {}).documents
    assert document.text == text.strip()

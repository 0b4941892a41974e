"""Connectors list documents with ids and hashes; bad entries become failures, not exceptions."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.hashing import sha256_text
from rag_pipelines.ingest.connectors import Listing
from rag_pipelines.ingest.ingestion import list_source


def _fs(root: Path, **connector: Any) -> SourceConfig:
    return SourceConfig.model_validate(
        {"name": "docs", "connector": {"type": "filesystem", "root": str(root), **connector}}
    )


def _beir(path: Path, **connector: Any) -> SourceConfig:
    return SourceConfig.model_validate(
        {"name": "corpus", "connector": {"type": "beir", "path": str(path), **connector}}
    )


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _ids(listing: Listing) -> list[str]:
    return [item.id for item in listing.items]


TREE = {
    "a.md": "a",
    "b.txt": "b",
    "img.png": "png",
    "docs/c.md": "c",
    "docs/deep/d.md": "d",
    "drafts/e.md": "e",
}


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        pytest.param(
            ["**/*"],
            [],
            ["a.md", "b.txt", "img.png", "docs/c.md", "docs/deep/d.md", "drafts/e.md"],
            id="everything-files-before-subfolders",
        ),
        pytest.param(["*.md"], [], ["a.md"], id="top-level-only"),
        pytest.param(
            ["**/*.md"], [], ["a.md", "docs/c.md", "docs/deep/d.md", "drafts/e.md"], id="globstar"
        ),
        pytest.param(
            ["**/*.md", "*.txt"],
            ["drafts/**"],
            ["a.md", "b.txt", "docs/c.md", "docs/deep/d.md"],
            id="include-and-exclude",
        ),
        pytest.param(["docs/**"], ["**/deep/*"], ["docs/c.md"], id="exclude-by-folder"),
        pytest.param(["**/*.pdf"], [], [], id="nothing-matches"),
    ],
)
def test_filesystem_globs(
    tmp_path: Path, include: list[str], exclude: list[str], expected: list[str]
) -> None:
    """Include/exclude globs select files by their path relative to the root."""
    listing = list_source(_fs(_tree(tmp_path, TREE), include=include, exclude=exclude))
    assert _ids(listing) == expected
    assert listing.failures == []


def test_hidden_and_system_files_are_skipped(tmp_path: Path) -> None:
    """Dotfiles, dot-folders, Office lock files and OS litter are never listed."""
    hidden = [".env", ".git/config", "docs/.draft.md", "docs/~$report.docx", ".DS_Store"]
    _tree(tmp_path, {**dict.fromkeys(hidden, "x"), "Thumbs.db": "x", "docs/ok.md": "ok"})
    listing = list_source(_fs(tmp_path))
    assert _ids(listing) == ["docs/ok.md"]
    assert listing.failures == []


def test_symlink_outside_root_is_refused(tmp_path: Path) -> None:
    """A link under the root to a file outside it is an OutsideRoot failure, not a document."""
    secret = _tree(tmp_path / "outside", {"secret.txt": "password"}) / "secret.txt"
    root = _tree(tmp_path / "root", {"ok.md": "ok"})
    (root / "leak.txt").symlink_to(secret)
    listing = list_source(_fs(root))
    assert _ids(listing) == ["ok.md"]
    [failure] = listing.failures
    assert (failure.document_id, failure.error_type) == ("leak.txt", "OutsideRoot")
    assert "outside the source root" in failure.reason
    assert failure.uri == (root / "leak.txt").as_uri()


def test_symlink_inside_root_is_followed(tmp_path: Path) -> None:
    """A file link that stays inside the root is one document, under its target's path."""
    root = _tree(tmp_path, {"real/doc.md": "text"})
    (tmp_path / "alias.md").symlink_to(root / "real" / "doc.md")
    listing = list_source(_fs(root))
    assert _ids(listing) == ["real/doc.md"]
    assert listing.items[0].path == root / "real" / "doc.md"
    assert listing.items[0].uri == (root / "real" / "doc.md").as_uri()


def test_dangling_and_looping_file_links_are_failures(tmp_path: Path) -> None:
    """Broken and circular file links are recorded as failures."""
    root = _tree(tmp_path, {"ok.md": "ok"})
    (root / "dangling.md").symlink_to(root / "gone.md")
    (root / "loop_a.md").symlink_to(root / "loop_b.md")
    (root / "loop_b.md").symlink_to(root / "loop_a.md")
    listing = list_source(_fs(root))
    assert _ids(listing) == ["ok.md"]
    assert sorted(f.document_id for f in listing.failures) == [
        "dangling.md",
        "loop_a.md",
        "loop_b.md",
    ]
    assert all(f.reason.startswith("cannot read") for f in listing.failures)


def test_directory_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    """Directory links (even ones pointing at an ancestor) are not descended into."""
    root = _tree(tmp_path / "root", {"a/doc.md": "x"})
    (root / "a" / "up").symlink_to(root, target_is_directory=True)
    (root / "self").symlink_to(root / "self", target_is_directory=True)
    result: list[Listing] = []
    worker = threading.Thread(target=lambda: result.append(list_source(_fs(root))), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "listing a folder with a symlink loop hung"
    assert _ids(result[0]) == ["a/doc.md"]


def test_file_over_max_size_is_too_large(tmp_path: Path) -> None:
    """A file over max_file_mb is a TooLarge failure; files under it are listed."""
    root = _tree(tmp_path, {"small.txt": "x" * 1000, "big.txt": "x" * 2000})
    listing = list_source(_fs(root, max_file_mb=1500 / (1024 * 1024)))
    assert _ids(listing) == ["small.txt"]
    [failure] = listing.failures
    assert (failure.document_id, failure.error_type) == ("big.txt", "TooLarge")
    assert "2000 bytes" in failure.reason


def test_filesystem_hash_is_the_content_hash(tmp_path: Path) -> None:
    """The hash is sha256 of the bytes: stable across runs and touches, new on edits."""
    root = _tree(tmp_path, {"a.md": "first", "b.md": "first"})
    before = list_source(_fs(root)).items
    assert before[0].content_hash == hashlib.sha256(b"first").hexdigest()
    assert before[0].content_hash == before[1].content_hash
    os.utime(root / "a.md", (1_000_000_000, 1_000_000_000))
    touched = list_source(_fs(root)).items
    assert touched[0].content_hash == before[0].content_hash
    assert touched[0].modified_at == "2001-09-09T01:46:40+00:00"
    (root / "a.md").write_text("second")
    assert list_source(_fs(root)).items[0].content_hash != before[0].content_hash


RECORDS = [{"_id": i, "title": f"T{i}", "text": f"text {i}"} for i in ("a", "b", "c", "d")]


def _corpus(folder: Path, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({}, ["a", "b", "c", "d"], id="all"),
        pytest.param({"limit": 2}, ["a", "b"], id="limit"),
        pytest.param({"ids": ["d", "b", "zz"]}, ["b", "d"], id="ids-in-file-order"),
        pytest.param({"ids": ["b", "c", "d"], "limit": 2}, ["b", "c"], id="ids-then-limit"),
        pytest.param({"ids": []}, [], id="no-ids"),
    ],
)
def test_beir_limit_and_ids(tmp_path: Path, options: dict[str, Any], expected: list[str]) -> None:
    """`limit` keeps the first N records and `ids` keeps only those ids."""
    folder = _corpus(tmp_path, [json.dumps(r) for r in RECORDS])
    listing = list_source(_beir(folder, **options))
    assert _ids(listing) == expected
    assert listing.failures == []


def test_beir_items_carry_text_and_stable_hash(tmp_path: Path) -> None:
    """A BEIR item holds its title and text; its hash depends only on them."""
    folder = _corpus(tmp_path, ['{"_id": 7, "title": "T", "text": "body", "metadata": {}}'])
    [item] = list_source(_beir(folder)).items
    assert (item.id, item.title, item.text, item.path) == ("7", "T", "body", None)
    assert item.content_hash == sha256_text("T", "body")
    assert item.uri.endswith("corpus.jsonl#7")
    _corpus(tmp_path, ['{"_id": 7, "title": "T", "text": "body", "metadata": {"x": 1}}'])
    assert list_source(_beir(folder)).items[0].content_hash == item.content_hash


@pytest.mark.parametrize(
    ("line", "error_type"),
    [
        pytest.param('{"_id": "x", "text": ', "JSONDecodeError", id="truncated-json"),
        pytest.param('{"title": "no id"}', "ValueError", id="missing-id"),
        pytest.param('["_id", "x"]', "ValueError", id="array-not-object"),
        pytest.param('"just a string"', "ValueError", id="string-not-object"),
        pytest.param("null", "ValueError", id="null-not-object"),
    ],
)
def test_malformed_beir_line_is_a_failure(tmp_path: Path, line: str, error_type: str) -> None:
    """Regression: a JSON line that is not an object crashed the listing (TypeError)."""
    folder = _corpus(tmp_path, [json.dumps(RECORDS[0]), line, "", json.dumps(RECORDS[1])])
    listing = list_source(_beir(folder))
    assert _ids(listing) == ["a", "b"]
    [failure] = listing.failures
    assert (failure.document_id, failure.error_type) == ("line-2", error_type)
    assert failure.reason.startswith("bad BEIR record: ")
    assert failure.uri.endswith("corpus.jsonl#L2")


def test_beir_scifact_limit(scifact_dir: Path) -> None:
    """The real SciFact corpus lists its first records with text."""
    listing = list_source(_beir(scifact_dir, limit=5))
    assert len(listing.items) == 5
    assert len(set(_ids(listing))) == 5
    assert all(item.text and item.title for item in listing.items)
    assert listing.failures == []

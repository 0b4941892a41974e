"""Hostile files next to good ones: each is quarantined with a typed reason, the rest indexed."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest.archive import ExpandedTooLarge, check_archive
from rag_pipelines.ingest.ingestion import IngestReport, ingest_source
from rag_pipelines.ingest.ledger import update_ledger
from rag_pipelines.ingest.limits import ParseTimeout, TooLarge
from rag_pipelines.ingest.signature import listing_signature
from rag_pipelines.ingest.worker import POOL
from tests.reliability.hostile import allocate, hang, zip_bomb

GOOD = {"a-good.md": "# Kettle\n\nThe kettle boils water.\n", "z-good.md": "# Lamp\n\nTeal.\n"}
MB = 1 << 20


def _source(root: Path, **connector: Any) -> SourceConfig:
    return SourceConfig.model_validate(
        {"name": "docs", "connector": {"type": "filesystem", "root": str(root), **connector}}
    )


def _good_tree(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in GOOD.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def _kinds(report: IngestReport) -> dict[str, str]:
    return {f.document_id: f.error_type for f in report.failures}


def _assert_good_indexed(report: IngestReport) -> None:
    ids = {d.id for d in report.documents}
    assert set(GOOD) <= ids, ids


def test_non_utf8_name_is_quarantined_and_later_runs_go_on(tmp_path: Path) -> None:
    """Regression: a file name that is not UTF-8 failed the whole source, in every later run."""
    root = _good_tree(tmp_path / "root")
    bad = os.fsencode(root) + b"/caf\xe9-\xff.md"
    with open(bad, "wb") as handle:
        handle.write(b"# Cafe\n\nText.\n")
    source = _source(root)
    assert listing_signature(source)  # raised UnicodeEncodeError
    first = ingest_source(source, {})
    _assert_good_indexed(first)
    assert _kinds(first) == {"caf\\xe9-\\xff.md": "UndecodableName"}
    ledger = update_ledger([], first, "2026-01-01T00:00:00+00:00")
    assert all(e.model_dump_json() for e in ledger)  # storable: no surrogates left
    second = ingest_source(source, {d.id: d for d in first.documents})
    assert sorted(second.unchanged) == sorted(GOOD)
    assert _kinds(second) == {"caf\\xe9-\\xff.md": "UndecodableName"}


def test_newline_in_name_matches_exclude(tmp_path: Path) -> None:
    """Regression: `**` did not match a newline, so exclude globs missed `secret/plan\\nB.md`."""
    root = _good_tree(tmp_path / "root")
    (root / "secret").mkdir()
    (root / "secret" / "plan\nB.md").write_text("# Plan\n\nSecret.\n", encoding="utf-8")
    (root / "notes\n.md").write_text("# Notes\n\nPublic.\n", encoding="utf-8")
    report = ingest_source(_source(root, exclude=["secret/**"]), {})
    assert sorted(d.id for d in report.documents) == sorted([*GOOD, "notes\n.md"])


@pytest.mark.parametrize("declared", [None, 4096], ids=["honest-sizes", "lying-sizes"])
def test_zip_bomb_is_refused_before_inflating(tmp_path: Path, declared: int | None) -> None:
    """Regression: a docx inflating to gigabytes was handed to the parser (RSS 1.4 → 4.7 GB)."""
    root = _good_tree(tmp_path / "root")
    bomb = zip_bomb(root / "bomb.docx", "word/document.xml", 300, declared)
    assert bomb.stat().st_size < MB  # small on disk, 300 MiB inflated
    started = time.perf_counter()
    with pytest.raises(ExpandedTooLarge):
        check_archive(bomb, 256 * MB)
    assert time.perf_counter() - started < 5
    for suffix in (".pptx", ".xlsx", ".epub", ".odt"):
        zip_bomb(root / f"bomb{suffix}", "content.xml", 300, declared)
    report = ingest_source(_source(root), {})
    _assert_good_indexed(report)
    bombs = ["bomb.docx", "bomb.epub", "bomb.odt", "bomb.pptx", "bomb.xlsx"]
    assert _kinds(report) == dict.fromkeys(bombs, "ExpandedTooLarge")


def test_text_over_the_cap_is_refused(tmp_path: Path) -> None:
    """Regression: a 50 MB single-line .txt took 195 s and 6.7 GB; now TooLarge up front."""
    root = _good_tree(tmp_path / "root")
    (root / "huge.txt").write_bytes(b"word " * (3 * MB // 5))
    report = ingest_source(_source(root, max_text_mb=1), {})
    _assert_good_indexed(report)
    assert _kinds(report) == {"huge.txt": "TooLarge"}


def test_slow_parse_is_killed_and_the_run_goes_on(tmp_path: Path) -> None:
    """Regression: no time limit per file existed; a slow parse now ends as ParseTimeout."""
    root = _good_tree(tmp_path / "root")
    # One line of 4 MB: unstructured needs far more than a second for it.
    (root / "m-slow.txt").write_bytes(b"slow " * (4 * MB // 5))
    started = time.perf_counter()
    report = ingest_source(_source(root, max_parse_seconds=3), {})
    _assert_good_indexed(report)  # z-good.md parsed by a fresh worker after the kill
    assert _kinds(report) == {"m-slow.txt": "ParseTimeout"}
    assert time.perf_counter() - started < 60


def test_hanging_parser_is_killed_and_replaced() -> None:
    """A parser that hangs is stopped at the limit; the next call gets a working process."""
    started = time.perf_counter()
    with pytest.raises(ParseTimeout):
        POOL.run(hang, (600.0,), 0.5, 1024 * MB)
    assert time.perf_counter() - started < 30
    assert POOL.run(hang, (0.0,), 30.0, 1024 * MB) == "finished"


def test_parser_memory_is_capped() -> None:
    """A parser that needs more memory than max_parse_memory_mb fails as TooLarge, not the run."""
    with pytest.raises(TooLarge, match="memory"):
        POOL.run(allocate, (2048,), 30.0, 512 * MB)
    assert POOL.run(allocate, (16,), 30.0, 512 * MB) == 16 * MB

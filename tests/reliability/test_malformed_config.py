"""A malformed sources.yaml changes nothing: `materialize` exits 2 with the problem named and
writes no file (no Dagster home, no log, no index change)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.reliability.conftest import Built
from tests.reliability.pipeline import copy_pipeline


def _outside_root(good: bytes) -> bytes:
    data = yaml.safe_load(good)
    data["sources"][0]["connector"]["include"] = ["../**/*.md"]
    return yaml.safe_dump(data).encode()


# tests/config covers every kind of problem; these two show the CLI stops before any write.
BREAK: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "not-utf8": (lambda good: good + b"# caf\xe9\n", "not UTF-8 text"),
    "outside-root": (_outside_root, "leaves the source root"),
}


def _files(root: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            stat = os.lstat(Path(dirpath) / name)
            found[os.path.relpath(Path(dirpath) / name, root)] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.mark.parametrize("case", sorted(BREAK))
def test_malformed_sources_change_nothing(built: Built, tmp_path: Path, case: str) -> None:
    """`rag-pipelines materialize` on a broken sources.yaml: exit 2, a clear message, no write."""
    pipeline = copy_pipeline(built.tmp, tmp_path)
    broken, message = BREAK[case]
    pipeline.sources_path.write_bytes(broken(pipeline.sources_path.read_bytes()))
    before = _files(tmp_path)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("rag-pipelines")), "-c", "sources.yaml", "materialize"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250", "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "invalid configuration" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert _files(tmp_path) == before

"""sources.yaml that leaves a source's root, is not UTF-8 text, or cannot be read as YAML fails
at load with the problem named, never with a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_pipelines.config import load_sources_file
from rag_pipelines.errors import ConfigError


def _connector(options: str) -> str:
    return f"sources:\n  - name: a\n    connector: {{type: filesystem, root: docs, {options}}}\n"


@pytest.mark.parametrize(
    ("options", "field", "pattern"),
    [
        ("include: ['../secrets/*.md']", "include", "../secrets/*.md"),
        ("include: ['docs/../../etc/*']", "include", "docs/../../etc/*"),
        ("include: ['/etc/passwd']", "include", "/etc/passwd"),
        ("exclude: ['..']", "exclude", ".."),
    ],
)
def test_pattern_leaving_the_root_is_refused(
    tmp_path: Path, options: str, field: str, pattern: str
) -> None:
    """Regression: include patterns with '..' or an absolute path were accepted silently."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "sources.yaml").write_text(_connector(options))
    with pytest.raises(ConfigError) as info:
        load_sources_file(tmp_path / "sources.yaml", env={})
    [problem] = info.value.problems
    assert f"source 'a' → connector.{field} (line 3)" in problem
    assert f"pattern {pattern!r} leaves the source root" in problem


def test_patterns_inside_the_root_are_accepted(tmp_path: Path) -> None:
    """Dotted names, `~$` lock-file excludes and `**` stay valid."""
    (tmp_path / "docs").mkdir()
    options = "include: ['**/*.md', 'v1..2/*.txt'], exclude: ['~$*', '**/.cache/**']"
    (tmp_path / "sources.yaml").write_text(_connector(options))
    config = load_sources_file(tmp_path / "sources.yaml", env={})
    assert config.sources[0].connector.include == ["**/*.md", "v1..2/*.txt"]  # type: ignore[union-attr]


def test_unknown_fallback_encoding_is_refused(tmp_path: Path) -> None:
    """A fallback_encoding Python has no codec for fails at load, not mid-run."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "sources.yaml").write_text(_connector("fallback_encoding: klingon"))
    with pytest.raises(ConfigError, match="unknown text encoding 'klingon'"):
        load_sources_file(tmp_path / "sources.yaml", env={})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"pipeline: {name: caf\xe9}\nsources: []\n", "not UTF-8 text (a bad byte at offset 20)"),
        (b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
    ],
    ids=["latin-1", "deeply-nested"],
)
def test_unreadable_yaml_is_a_config_error(tmp_path: Path, data: bytes, expected: str) -> None:
    """Regression: a non-UTF-8 or deeply nested sources.yaml crashed with a traceback."""
    (tmp_path / "sources.yaml").write_bytes(data)
    with pytest.raises(ConfigError) as info:
        load_sources_file(tmp_path / "sources.yaml", env={})
    assert expected in info.value.problems[0]

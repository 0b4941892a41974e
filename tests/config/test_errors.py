"""Broken sources.yaml files fail at load with the file, source, field and line named."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rag_pipelines.config import load_sources_file
from rag_pipelines.errors import ConfigError

Write = Callable[[str], Path]

OK_SOURCE = "sources:\n  - name: a\n    connector: {type: filesystem, root: docs}\n"

BROKEN = [
    pytest.param(
        "embeding:\n  device: cpu\n" + OK_SOURCE,
        ["embeding (line 1)", "unknown key 'embeding'", "did you mean 'embedding'?"],
        id="unknown-top-level-key",
    ),
    pytest.param(
        OK_SOURCE + "    chunking:\n      chunk_sise: 100\n",
        ["source 'a' → chunking.chunk_sise (line 5)", "did you mean 'chunk_size'?"],
        id="unknown-key-in-source-chunking",
    ),
    pytest.param(
        "sources:\n  - name: a\n    connector: {type: filesystem, root: docs, inlcude: ['*']}\n",
        ["source 'a' → connector.inlcude (line 3)", "did you mean 'include'?"],
        id="unknown-key-in-connector",
    ),
    pytest.param(
        OK_SOURCE.replace("name: a", "name: Docs"),
        ["source 'Docs' → name (line 2)", "^[a-z][a-z0-9_]*$"],
        id="source-name-uppercase",
    ),
    pytest.param(
        OK_SOURCE.replace("name: a", "name: 1docs"),
        ["source '1docs' → name (line 2)", "should match pattern"],
        id="source-name-leading-digit",
    ),
    pytest.param(
        OK_SOURCE.replace("name: a", "name: my-docs"),
        ["source 'my-docs' → name (line 2)", "should match pattern"],
        id="source-name-dash",
    ),
    pytest.param(
        OK_SOURCE + OK_SOURCE.removeprefix("sources:\n"),
        ["sources (line 1)", "source name 'a' is used twice (source #1 and #2)"],
        id="duplicate-source-names",
    ),
    pytest.param(
        "sources:\n  - name: a\n    connector:\n      type: filesystem\n      root: missing\n",
        ["source 'a' → connector.root (line 5)", "directory does not exist", "missing"],
        id="filesystem-root-missing",
    ),
    pytest.param(
        "sources:\n  - name: a\n    connector:\n      type: beir\n      path: docs\n",
        ["source 'a' → connector.path (line 5)", "no corpus.jsonl in"],
        id="beir-path-without-corpus",
    ),
    pytest.param(
        "sources:\n  - name: a\n    connector:\n      type: s3\n      root: docs\n",
        [
            "source 'a' → connector.type (line 4)",
            "unknown connector type 's3'",
            "known types: beir, filesystem, object_storage, sql, web",
        ],
        id="unknown-connector-type",
    ),
    pytest.param(
        "pipeline:\n  name: demo\n",
        ["sources (line 1): required but missing"],
        id="sources-missing",
    ),
    pytest.param(
        "sources: []\n",
        ["sources (line 1)", "at least 1 item"],
        id="sources-empty",
    ),
    pytest.param(
        OK_SOURCE + "    chunking: {chunk_size: 100, chunk_overlap: 100}\n",
        ["source 'a' → chunking (line 4)", "chunk_overlap (100) must be smaller than chunk_size"],
        id="overlap-not-below-size",
    ),
    pytest.param(
        "defaults:\n  chunking:\n    chunk_size: 8\n" + OK_SOURCE,
        ["defaults.chunking.chunk_size (line 3)", "greater than or equal to 16"],
        id="chunk-size-too-small",
    ),
    pytest.param(
        "embedding:\n  model: ./models/nope\n" + OK_SOURCE,
        ["embedding.model (line 2)", "model directory does not exist", "models/nope"],
        id="model-local-path-missing",
    ),
    pytest.param(
        "embedding:\n  model: my cool model\n" + OK_SOURCE,
        ["embedding.model (line 2)", "'my cool model' is neither a Hugging Face model id"],
        id="model-not-an-hf-id",
    ),
    pytest.param(
        "embedding:\n  model: bundled:xyz\n" + OK_SOURCE,
        ["embedding.model (line 2)", "unknown bundled model 'bundled:xyz'"],
        id="model-unknown-bundled",
    ),
    pytest.param(
        "embedding:\n  device: gpu\n" + OK_SOURCE,
        ["embedding.device (line 2)", "auto|cpu|mps|cuda"],
        id="bad-device",
    ),
    pytest.param(
        "index:\n  qdrant:\n    backend: server\n" + OK_SOURCE,
        ["index.qdrant (line 2)", "backend 'server' needs url"],
        id="server-without-url",
    ),
    pytest.param(
        "index:\n  qdrant:\n    backend: edge\n    url: http://q:6333\n" + OK_SOURCE,
        ["index.qdrant (line 2)", "url is only used with backend 'server'"],
        id="url-without-server",
    ),
    pytest.param(
        "sources:\n  - name: a\n    connector:\n      type: filesystem\n      root: ${NOPE_DIR}\n",
        ["source 'a' → connector.root (line 5)", "environment variable ${NOPE_DIR} is not set"],
        id="env-var-unset-without-default",
    ),
    pytest.param(
        "sources:\n  - name: a\n   connector: [\n",
        ["not valid YAML", "line 3"],
        id="yaml-syntax-error",
    ),
    pytest.param("- a\n- b\n", ["must be a mapping with a `sources:` list"], id="top-level-list"),
    pytest.param("", ["must be a mapping with a `sources:` list"], id="empty-file"),
    pytest.param("version: 2\n" + OK_SOURCE, ["version (line 1)"], id="unknown-version"),
]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write YAML text to tmp_path/sources.yaml next to an existing docs/ folder."""
    (tmp_path / "docs").mkdir()

    def _write(text: str) -> Path:
        path = tmp_path / "sources.yaml"
        path.write_text(text)
        return path

    return _write


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_broken_file_names_the_problem(write: Write, text: str, expected: list[str]) -> None:
    """Each broken file raises ConfigError with one problem line naming where and what."""
    path = write(text)
    with pytest.raises(ConfigError) as info:
        load_sources_file(path, env={})
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    assert len(info.value.problems) == 1, info.value.problems
    for fragment in expected:
        assert fragment in info.value.problems[0]


def test_every_problem_is_reported(write: Write) -> None:
    """Four mistakes in different places give four problem lines, not just the first."""
    path = write(
        "embedding:\n  device: gpu\n"
        "sources:\n"
        "  - name: Bad\n    connector: {type: filesystem, root: docs}\n"
        "  - name: ok\n    connector: {type: filesystem, root: gone}\n"
        "    chunking: {chunk_size: 100, chunk_overlap: 120}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_sources_file(path, env={})
    problems = info.value.problems
    assert len(problems) == 4, problems
    assert any(p.startswith("embedding.device (line 2)") for p in problems)
    assert any(p.startswith("source 'Bad' → name (line 4)") for p in problems)
    assert any(p.startswith("source 'ok' → connector.root (line 7)") for p in problems)
    assert any(p.startswith("source 'ok' → chunking (line 8)") for p in problems)


def test_every_unset_env_var_is_reported(write: Write) -> None:
    """Regression: two unset variables in one value were reported as one."""
    path = write(
        "index:\n  qdrant:\n    url: http://${QHOST}:${QPORT}\n"
        "sources:\n  - name: a\n    connector: {type: filesystem, root: '${ROOT}'}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_sources_file(path, env={})
    problems = info.value.problems
    assert [p.split(": ", 1)[0] for p in problems] == [
        "index.qdrant.url (line 3)",
        "index.qdrant.url (line 3)",
        "source 'a' → connector.root (line 6)",
    ]
    for name, problem in zip(["QHOST", "QPORT", "ROOT"], problems, strict=True):
        assert f"${{{name}}} is not set" in problem


def test_unreadable_file(tmp_path: Path) -> None:
    """A missing sources.yaml is a ConfigError naming the file, not a traceback."""
    with pytest.raises(ConfigError, match="cannot read the file") as info:
        load_sources_file(tmp_path / "absent.yaml", env={})
    assert info.value.path == str(tmp_path / "absent.yaml")


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).with_name("rag-pipelines")
    env = {**os.environ, "COLUMNS": "1000", "NO_COLOR": "1"}
    return subprocess.run(
        [str(cli), "-c", str(path), "validate"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_cli_validate_lists_every_problem_and_exits_2(write: Write) -> None:
    """`rag-pipelines validate` prints each problem and exits with code 2."""
    path = write(
        "embeding: {}\nsources:\n  - name: Bad\n    connector: {type: filesystem, root: gone}\n"
    )
    result = _validate(path)
    assert result.returncode == 2, result.stderr
    assert "invalid configuration" in result.stderr
    assert "Traceback" not in result.stderr
    for fragment in [
        "embeding (line 1): unknown key 'embeding' (did you mean 'embedding'?)",
        "source 'Bad' → name (line 3)",
        "source 'Bad' → connector.root (line 4): directory does not exist",
    ]:
        assert fragment in result.stderr


def test_cli_validate_accepts_a_valid_file(write: Write) -> None:
    """`rag-pipelines validate` exits 0 and names the sources of a valid file."""
    result = _validate(write(OK_SOURCE))
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout
    assert "1 source(s): a" in result.stdout


def test_unknown_block_key_points_at_its_own_line(write: Write) -> None:
    """Regression: an unknown key holding a block mapping was reported on the line below it."""
    path = write("pipeline:\n  name: demo\nembeding:\n  device: cpu\n" + OK_SOURCE)
    with pytest.raises(ConfigError) as info:
        load_sources_file(path, env={})
    assert info.value.problems[0].startswith("embeding (line 3): unknown key 'embeding'")


def test_missing_sources_list_is_named(write: Write) -> None:
    """Regression: problems with the `sources` list itself were labelled "(top level)"."""
    path = write("pipeline: {name: demo}\n")
    with pytest.raises(ConfigError) as info:
        load_sources_file(path, env={})
    assert info.value.problems == ["sources (line 1): required but missing"]


def test_an_unset_variable_does_not_hide_other_problems(write: Write) -> None:
    """Regression: one unset ${VAR} was the only problem reported; the rest were hidden."""
    path = write(
        "embedding:\n  device: gpu\n"
        "sources:\n  - name: a\n    connector: {type: filesystem, root: '${NOPE_DIR}'}\n"
        "  - name: Bad\n    connector: {type: filesystem, root: docs}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_sources_file(path, env={})
    problems = info.value.problems
    assert len(problems) == 3, problems
    assert problems[0].startswith("source 'a' → connector.root (line 5): environment variable")
    assert any(p.startswith("embedding.device (line 2)") for p in problems)
    assert any(p.startswith("source 'Bad' → name (line 6)") for p in problems)


def test_yaml_syntax_error_names_the_file_line_and_column(write: Write) -> None:
    """Regression: a YAML syntax error said '<unicode string>' instead of the file."""
    path = write("sources:\n  - name: a\n   connector: [\n")
    with pytest.raises(ConfigError) as info:
        load_sources_file(path, env={})
    assert str(info.value).startswith(f"{path}: 1 problem(s)")
    assert "<unicode string>" not in str(info.value)
    assert info.value.problems[0].startswith("not valid YAML (line 3, column 4): ")

"""The CLI as a user meets it: --version, piped output, validate's model check, failed runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rag_pipelines import __version__
from rag_pipelines.cli import app

REPO = Path(__file__).resolve().parents[2]
UNCACHED = "sentence-transformers/all-mpnet-base-v2"


def write_config(folder: Path, model: str = "bundled:all-MiniLM-L6-v2") -> Path:
    """A sources.yaml over the example corpus, state under folder/data."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "pipeline": {"name": "cli", "data_dir": str(folder / "data")},
        "embedding": {"model": model, "device": "cpu"},
        "sources": [
            {
                "name": "policies",
                "connector": {"type": "filesystem", "root": str(REPO / "examples" / "policies")},
            }
        ],
    }
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`rag-pipelines ARGS` in a subprocess with piped output and no COLUMNS."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "DAGSTER_HOME")}
    return subprocess.run(
        [sys.executable, "-m", "rag_pipelines.cli", *args],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(REPO), "DO_NOT_TRACK": "1"},
        timeout=timeout,
        check=False,
    )


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"rag-pipelines {__version__}"


def test_piped_output_is_not_wrapped_at_80_columns(tmp_path: Path) -> None:
    """Regression: piped output wrapped at 80 columns and cut paths in two."""
    config = write_config(tmp_path / ("deep-" * 20) / "pipeline")
    assert len(str(config)) > 120
    result = cli("-c", str(config), "validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert f"ok {config}: pipeline 'cli'" in result.stdout


def test_validate_fails_for_a_model_that_is_not_on_this_machine(tmp_path: Path) -> None:
    """Regression: validate printed ok for an uncached Hugging Face model; materialize failed."""
    config = write_config(tmp_path, UNCACHED)
    result = CliRunner().invoke(app, ["-c", str(config), "validate"])
    assert result.exit_code == 2
    assert f"embedding.model: model '{UNCACHED}' is not in the local Hugging Face cache" in (
        result.output
    )
    allowed = CliRunner().invoke(app, ["-c", str(config), "validate", "--allow-download"])
    assert allowed.exit_code == 0
    assert "warning embedding.model" in allowed.output and "ok " in allowed.output


@pytest.mark.slow
def test_failed_materialize_prints_the_root_cause_and_log_path(tmp_path: Path) -> None:
    """Regression: a failed run showed a traceback's tail (httpcore ConnectError), not the
    ModelLoadError that says what to do."""
    config = write_config(tmp_path, UNCACHED)
    result = cli("-c", str(config), "materialize", timeout=300)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("run failed: ingest_source[policies]: "), lines[0]
    assert f"ModelLoadError: model '{UNCACHED}'" in lines[0]
    log = Path(lines[0].rsplit("(full log: ", 1)[1].split(";")[0].rstrip(")"))
    assert log.is_file() and "ConnectError" in log.read_text()
    assert "Traceback" not in result.stderr and "ConnectError" not in result.stderr


def test_rag_sources_names_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: the CLI's help promised $RAG_SOURCES but read ./sources.yaml regardless."""
    config = write_config(tmp_path / "elsewhere")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["validate"], env={"RAG_SOURCES": str(config)})
    assert result.exit_code == 0, result.output
    assert f"ok {config}" in result.output


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        (
            {"keys_file": "missing-keys.yaml"},
            "service.auth.keys_file: cannot read {tmp}/missing-keys.yaml: No such file or "
            "directory — write that file (a YAML or JSON list of keys) or fix the path",
        ),
        (
            {"keys_env": "RAG_TEST_UNSET_KEYS"},
            "service.auth.keys_env: $RAG_TEST_UNSET_KEYS is not set; the service refuses to "
            "start without its keys — export RAG_TEST_UNSET_KEYS (a YAML or JSON list of keys) "
            "where `serve` runs",
        ),
    ],
    ids=["keys_file", "keys_env"],
)
def test_validate_reports_service_keys_that_serve_cannot_read(
    tmp_path: Path, auth: dict[str, str], expected: str
) -> None:
    """Regression: validate printed ok for a missing keys_file or an unset keys_env, and
    `serve` then refused to start."""
    config = write_config(tmp_path)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["service"] = {"auth": auth}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = cli("-c", str(config), "validate")
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"invalid configuration {config}" in result.stderr
    assert expected.format(tmp=tmp_path.resolve()) in result.stderr
    assert "ok " not in result.stdout
    (tmp_path / "missing-keys.yaml").write_text("- name: ci\n  key: k-123456789012345678901\n")
    fixed = subprocess.run(
        [sys.executable, "-m", "rag_pipelines.cli", "-c", str(config), "validate"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "RAG_TEST_UNSET_KEYS": "- name: ci\n  key: k-123456789012345678901\n",
        },
        timeout=120,
        check=False,
    )
    assert fixed.returncode == 0, fixed.stderr

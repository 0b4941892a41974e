"""Where Dagster cannot see: two Dagster instances on one data dir. Their runs do not share a
run queue or a pool, so the file locks are what keeps them apart: the second refuses, the
first is unharmed. (Within one instance the queue makes colliding runs wait: test_daemon_race.)"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from rag_pipelines.cli import app
from rag_pipelines.locks import PipelineBusy, exclusive
from tests.reliability.conftest import Built
from tests.reliability.corpus import ADDED, QUERY_ADDED, SOURCE
from tests.reliability.pipeline import assert_intact, copy_pipeline, live_search, start_paused

BUSY = "another run is already writing"


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    """Every failure message of a run."""
    return " ".join(
        str(event.event_specific_data) for event in result.all_events if event.is_failure
    )


def test_second_build_is_refused_while_one_runs(built: Built, tmp_path: Path) -> None:
    """A build started while another is mid-index refuses, leaves that build alone, and the
    first one publishes an intact version."""
    pipeline = copy_pipeline(built.tmp, tmp_path)
    pipeline.write(*ADDED)
    pipeline.run(SOURCE)
    first = start_paused(pipeline, "corpus", "vector_index_partial")
    registry = pipeline.ctx.registry
    [building] = registry.incomplete()

    second = pipeline.run("corpus", raise_on_error=False)
    assert not second.success
    assert BUSY in failure_text(second)
    assert registry.incomplete() == [building]  # the refused run cleaned nothing up
    assert registry.live() is not None and registry.live().version == built.version

    assert first.resume() == 0, first.tail()
    version, documents = live_search(pipeline.ctx, QUERY_ADDED[0])
    assert (version, documents[0]) == (building, QUERY_ADDED[1])
    assert_intact(pipeline.ctx, building)
    assert registry.incomplete() == []


def test_source_run_is_refused_while_the_source_is_written(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source's stages refuse once another process held that source's lock longer than a
    snapshot would (seconds; shortened here)."""
    monkeypatch.setattr("assets.source_assets.SOURCE_LOCK_WAIT_S", 0.5)
    pipeline = copy_pipeline(built.tmp, tmp_path)
    pipeline.write(*ADDED)
    documents = pipeline.ctx.workspace.documents_path(SOURCE)
    before = documents.read_bytes()
    with exclusive(pipeline.ctx.workspace.source_lock(SOURCE), "the test"):
        result = pipeline.run(SOURCE, raise_on_error=False)
    assert not result.success
    assert BUSY in failure_text(result)
    assert documents.read_bytes() == before


def test_rollback_waits_for_no_build(built: Built, tmp_path: Path) -> None:
    """Regression: `rollback` took no build lock, so a publish's garbage collection running at
    the same time could delete the very version it re-pointed LIVE.json to."""
    pipeline = copy_pipeline(built.tmp, tmp_path)
    live = pipeline.ctx.workspace.live_pointer.read_bytes()
    with exclusive(pipeline.ctx.workspace.build_lock, "the test"):
        result = CliRunner().invoke(app, ["-c", str(pipeline.sources_path), "rollback"])
    assert isinstance(result.exception, PipelineBusy)
    assert pipeline.ctx.workspace.live_pointer.read_bytes() == live


@pytest.mark.slow
def test_cli_prints_the_root_cause_of_a_failed_run(built: Built, tmp_path: Path) -> None:
    """A failed run ends the CLI with one line naming the run, step and error, and the path
    of the full log (which holds the traceback); no stack trace on the console."""
    pipeline = copy_pipeline(built.tmp, tmp_path)
    with exclusive(pipeline.ctx.workspace.build_lock, "the test"):
        result = CliRunner().invoke(app, ["-c", str(pipeline.sources_path), "materialize"])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("run failed: build_and_publish: "), result.stderr
    assert "PipelineBusy: another run is already writing this pipeline's index" in lines[0]
    assert "Traceback" not in result.stderr
    log = Path(lines[0].rsplit("(full log: ", 1)[1].split(";")[0].rstrip(")"))
    text = log.read_text(encoding="utf-8")
    assert "PipelineBusy" in text and "step_start" in text

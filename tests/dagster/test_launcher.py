"""The CLI ↔ launcher contract: the runner's command line, the launcher's parsing, root causes."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster._utils.error import SerializableErrorInfo

from assets.launch import Launch, parse_stage
from assets.run_events import root_cause
from rag_pipelines.asset_graph import INGEST_JOB, PUBLISH_JOB, TRIGGER_TAG
from rag_pipelines.runner import (
    DEV_INSTANCE_YAML,
    RunOutcome,
    _record,
    command,
    ensure_dagster_home,
    plan_runs,
)


def test_plan_ingests_every_source_at_once_then_builds() -> None:
    stages = plan_runs(["alpha", "beta"])
    assert [[(r.job, r.partition) for r in s.runs] for s in stages] == [
        [(INGEST_JOB, "alpha"), (INGEST_JOB, "beta")],
        [(PUBLISH_JOB, None)],
    ]


def test_the_launcher_reads_the_runs_the_runner_asks_for() -> None:
    """One launcher process for the whole plan; it parses back exactly the planned runs."""
    stages = plan_runs(["alpha", "beta"])
    argv = command(*stages)
    assert argv[1:3] == ["-m", "assets.launch"]
    assert argv[argv.index("--tag") + 1] == f"{TRIGGER_TAG}=cli"
    parsed = [parse_stage(argv[i + 1]) for i, a in enumerate(argv) if a == "--stage"]
    assert parsed == [
        [Launch(INGEST_JOB, "alpha"), Launch(INGEST_JOB, "beta")],
        [Launch(PUBLISH_JOB, None)],
    ]
    assert [r.label for s in stages for r in s.runs] == [x.label for p in parsed for x in p]


def _error(cls: str, message: str, cause: SerializableErrorInfo | None) -> SerializableErrorInfo:
    return SerializableErrorInfo(message=message, stack=[], cls_name=cls, cause=cause)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_error("ValueError", "ValueError: bad\nmore\n", None), "ValueError: bad"),
        (
            _error(
                "DagsterExecutionStepExecutionError",
                'Error occurred while executing op "corpus_snapshot":',
                _error("PipelineBusy", "another run is already writing it\n", None),
            ),
            "PipelineBusy: another run is already writing it",
        ),
    ],
)
def test_root_cause_is_the_innermost_error_on_one_line(
    error: SerializableErrorInfo, expected: str
) -> None:
    assert root_cause(error) == expected


def test_the_first_failed_run_names_the_root_cause(tmp_path: Path) -> None:
    outcome = RunOutcome(ok=False, log_path=tmp_path)
    _record(outcome, {"type": "run", "label": "build_and_publish", "run_id": "r1"})
    _record(outcome, {"type": "end", "label": "build_and_publish", "root_cause": "x: E: m"})
    _record(outcome, {"type": "end", "label": "other", "root_cause": "later"})
    assert outcome.run_ids == {"build_and_publish": "r1"}
    assert outcome.root_cause == "build_and_publish: x: E: m"


def test_dagster_home_gets_the_queued_instance_and_keeps_a_users_own(tmp_path: Path) -> None:
    """Regression: DAGSTER_HOME kept the old telemetry-only dagster.yaml (no run-queue limits)."""
    old = tmp_path / "old"
    old.mkdir()
    (old / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    assert (ensure_dagster_home(old) / "dagster.yaml").read_text() == DEV_INSTANCE_YAML
    assert (ensure_dagster_home(tmp_path / "new") / "dagster.yaml").read_text() == DEV_INSTANCE_YAML
    previous = tmp_path / "previous"  # what rag-pipelines wrote before run monitoring
    previous.mkdir()
    (previous / "dagster.yaml").write_text(
        DEV_INSTANCE_YAML.split("# Where a daemon runs")[0], encoding="utf-8"
    )
    assert (ensure_dagster_home(previous) / "dagster.yaml").read_text() == DEV_INSTANCE_YAML
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    assert (
        ensure_dagster_home(mine) / "dagster.yaml"
    ).read_text() == "telemetry:\n  enabled: true\n"

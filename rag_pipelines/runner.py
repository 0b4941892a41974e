"""Launch this pipeline's named Dagster jobs from the CLI and follow their progress.

The library never imports dagster, so the runs are launched by a small Dagster-side program,
`python -m assets.launch`, run as a subprocess on the pipeline's DAGSTER_HOME. It creates runs of
the named jobs (`ingest_source` per source, `build_and_publish`) as the UI does, submits them to
the instance's run queue (the same queue as sensor, schedule and UI runs) and prints their
events as JSON lines, which this module turns into progress and a one-line root cause.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag_pipelines.asset_graph import INGEST_JOB, OPT_IN, OPT_IN_JOBS, PUBLISH_JOB, TRIGGER_TAG
from rag_pipelines.config.loader import SOURCES_ENV
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.progress import ProgressUpdate
from rag_pipelines.run_errors import root_cause
from rag_pipelines.workspace import Workspace

# The zero-setup instance of `make dev` and the CLI: SQLite under DAGSTER_HOME, Dagster's run
# queue with the same limits as deploy/dagster.yaml (production, PostgreSQL).
DEV_INSTANCE_YAML = """\
# Written by rag-pipelines (make dev / rag-pipelines materialize) when DAGSTER_HOME had none.
# Storage: SQLite under DAGSTER_HOME. Production: deploy/dagster.yaml (PostgreSQL).
telemetry:
  enabled: false
run_coordinator:  # Dagster's run queue, drained by dagster-daemon (make dev starts one)
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
concurrency:
  runs:
    max_concurrent_runs: 4
    tag_concurrency_limits:
      # One run per source at a time: every launcher of a partitioned run sets this tag.
      - key: dagster/partition
        value:
          applyLimitPerUniqueValue: true
        limit: 1
  pools:
    # The index writers' pool (rag_<pipeline>_index) is held for a whole run: one build at a time.
    granularity: run
    default_limit: 1
# Where a daemon runs: it marks failed a run that never started within start_timeout_seconds
# (and, for launchers that report worker health, one whose worker died). Runs the CLI executes
# itself carry their worker's pid and are failed by the next launcher or build once it is gone.
run_monitoring:
  enabled: true
  poll_interval_seconds: 30
"""


@dataclass(frozen=True)
class RunSpec:
    """One run of a named job (and its partition, for per-source jobs)."""

    job: str
    partition: str | None = None

    @property
    def label(self) -> str:
        """How the launcher names the run in its progress lines."""
        return f"{self.job}[{self.partition}]" if self.partition else self.job


@dataclass(frozen=True)
class Stage:
    """Runs launched together; the next stage starts once all of them succeeded."""

    label: str
    runs: tuple[RunSpec, ...]


@dataclass
class RunOutcome:
    """How a launch ended: its runs' ids and, if one failed, the root cause."""

    ok: bool
    log_path: Path
    run_ids: dict[str, str] = field(default_factory=dict)
    root_cause: str | None = None


def plan_runs(source_names: list[str], opt_in: tuple[str, ...] = ()) -> list[Stage]:
    """All sources' ingest runs at once, then build-and-publish, then each requested opt-in
    job (experiments, embedding_finetune) in a stage of its own."""
    unknown = sorted(set(opt_in) - set(OPT_IN))
    if unknown:
        raise ValueError(f"not opt-in assets: {unknown}; they are {list(OPT_IN)}")
    stages = [
        Stage(
            "ingest " + ", ".join(source_names), tuple(RunSpec(INGEST_JOB, n) for n in source_names)
        ),
        Stage("build and publish index", (RunSpec(PUBLISH_JOB),)),
    ]
    stages.extend(Stage(name.replace("_", " "), (RunSpec(OPT_IN_JOBS[name]),)) for name in opt_in)
    return stages


def missing_opt_in(opt_in: tuple[str, ...], config: SourcesFile) -> list[str]:
    """The requested opt-in assets that sources.yaml does not declare, with the key to add."""
    needs = {
        "experiments": (bool(config.evaluation.experiments), "evaluation.experiments"),
        "embedding_finetune": (config.embedding.finetune is not None, "embedding.finetune"),
    }
    return [
        f"{name} needs {needs[name][1]} in sources.yaml" for name in opt_in if not needs[name][0]
    ]


# What earlier versions wrote (sha256 of the file): replaced, as they lack the run-queue limits
# or run monitoring. Anything else is yours and kept.
_OLD_DEFAULTS = {
    "f8805dc9e6f614c7063da7dcf3562d13a17819c1c5a14d3156d9974de6353777",  # telemetry only
    "6a01a5b7803dde8e00046848f0a7142bae457e598b397af0ff9e5dfb46e49f2b",  # queue, no monitoring
}


def ensure_dagster_home(home: Path) -> Path:
    """DAGSTER_HOME with the zero-setup dagster.yaml if it has none; one you wrote is kept."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or _digest(config.read_text(encoding="utf-8")) in _OLD_DEFAULTS:
        config.write_text(DEV_INSTANCE_YAML, encoding="utf-8")
    return home


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dagster_env(workspace: Workspace, sources_path: Path) -> dict[str, str]:
    """Environment for the launcher: this pipeline's DAGSTER_HOME and sources file."""
    env = dict(os.environ)
    home = ensure_dagster_home(Path(env.get("DAGSTER_HOME") or workspace.dagster_home))
    env["DAGSTER_HOME"] = str(home.resolve())
    env[SOURCES_ENV] = str(sources_path.resolve())
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def command(*stages: Stage, trigger: str = "cli") -> list[str]:
    """The launcher's command line for stages run in order, tagged `rag/trigger=<trigger>`.

    One launcher process runs them all: loading the code location costs seconds per process.
    """
    cmd = [sys.executable, "-m", "assets.launch", "--tag", f"{TRIGGER_TAG}={trigger}"]
    for stage in stages:
        runs = ",".join(f"{r.job}:{r.partition}" if r.partition else r.job for r in stage.runs)
        cmd += ["--stage", runs]
    return cmd


def execute(
    stages: list[Stage],
    env: dict[str, str],
    log_path: Path,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> RunOutcome:
    """Launch the stages in order (stopping at a failed one), writing everything to a log file
    and each progress event to `on_event`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    outcome = RunOutcome(ok=False, log_path=log_path)
    tail: list[str] = []
    with (
        log_path.open("w", encoding="utf-8") as log,
        subprocess.Popen(
            command(*stages), env=env, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1
        ) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            event = _parse(line)
            if event is None:
                log.write(line)
                tail = [*tail[-20:], line]
                continue
            log.write(_describe(event) + "\n")
            log.flush()
            _record(outcome, event)
            if on_event is not None:
                on_event(event)
        code = proc.wait()
    outcome.ok = code == 0
    if not outcome.ok and outcome.root_cause is None:
        outcome.root_cause = _last_error(log_path) or f"the launcher exited with code {code}"
    return outcome


def progress_text(event: dict[str, Any]) -> str:
    """A progress event as its run's progress line (rich markup); a `progress` event shows the
    running step's done/total, rate and ETA."""
    label, kind = event["label"], event["type"]
    if kind == "status":
        return f"{label}: {event['status'].lower()}"
    if kind == "step_start":
        return f"{label}: {event['step']}"
    if kind == "progress":
        update = ProgressUpdate(
            event["stage"],
            event["done"],
            event["total"],
            0.0,
            event.get("rate"),
            event.get("eta_s"),
        )
        return f"{label}: {event['step']} · {update.line().removeprefix('progress ')}"
    if kind == "end":
        mark = "[green]✓[/green]" if event["status"] == "SUCCESS" else "[red]✗[/red]"
        return f"{mark} {label}"
    return f"{label}: {event.get('step') or kind}"


def _parse(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) and "type" in event else None


def _record(outcome: RunOutcome, event: dict[str, Any]) -> None:
    if event["type"] == "run":
        outcome.run_ids[event["label"]] = event["run_id"]
    elif event["type"] == "end" and event.get("root_cause") and outcome.root_cause is None:
        outcome.root_cause = f"{event['label']}: {event['root_cause']}"
    elif event["type"] == "stalled" and outcome.root_cause is None:
        outcome.root_cause = (
            "runs are queued but no dagster-daemon is running for this DAGSTER_HOME "
            "(start `make dev` or `dagster-daemon run`)"
        )


def _describe(event: dict[str, Any]) -> str:
    parts = [f"[{event['label']}] {event['type']}"]
    for key in ("run_id", "status", "step", "check", "passed", "message", "root_cause", "error"):
        if event.get(key) not in (None, ""):
            parts.append(f"{key}={event[key]}")
    return " ".join(parts)


def _last_error(log_path: Path) -> str | None:
    """The typed error in the launcher's own log, when it died before reporting a run."""
    try:
        return root_cause(log_path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None

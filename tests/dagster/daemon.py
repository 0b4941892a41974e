"""A real Dagster deployment in a temp dir: DAGSTER_HOME, a dagster-daemon with its sensors, and
launches the way the CLI and the UI make them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.scheduler.instigation import InstigatorType, TickStatus

from rag_pipelines.asset_graph import INDEX_REFRESH_SENSOR, PUBLISH_JOB, SOURCE_CHANGE_SENSOR
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.runner import DEV_INSTANCE_YAML
from tests.dataops.corpus import write_config, write_corpus

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEPLOY_INSTANCE = REPO / "deploy" / "dagster.yaml"
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
# The sensors make_deployment runs every 5 s (the model sensor's hour never comes in a test).
FAST_SENSORS = (SOURCE_CHANGE_SENSOR, INDEX_REFRESH_SENSOR)
QUEUE_CLASS = "  class: QueuedRunCoordinator\n"


@dataclass
class Deployment:
    """A pipeline (two sources) with its own DAGSTER_HOME and the environment to run in it."""

    tmp: Path
    config: SourcesFile
    env: dict[str, str]
    roots: dict[str, Path]

    @property
    def sources_path(self) -> Path:
        """Its sources.yaml."""
        return self.tmp / "sources.yaml"

    @property
    def ctx(self) -> PipelineContext:
        """Its pipeline context."""
        return PipelineContext(self.config)

    @contextmanager
    def instance(self) -> Iterator[dg.DagsterInstance]:
        """The deployment's Dagster instance, opened from its DAGSTER_HOME."""
        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            with dg.DagsterInstance.get() as instance:
                yield instance
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def cli(self, *args: str) -> subprocess.Popen[str]:
        """`rag-pipelines -c sources.yaml ARGS` in a subprocess (stdout and stderr together)."""
        return subprocess.Popen(
            [str(BIN / "rag-pipelines"), "-c", str(self.sources_path), *args],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def ui_launch(self, job: str = PUBLISH_JOB) -> subprocess.CompletedProcess[str]:
        """Launch a job as the UI's Launch button does: Dagster's own `dagster job launch`,
        which creates the run from the code location and submits it to the instance's queue."""
        return subprocess.run(
            [str(BIN / "dagster"), "job", "launch", "-w", "workspace.yaml", "-j", job],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )


def make_deployment(
    tmp: Path,
    instance_yaml: str,
    extra_env: dict[str, str],
    model_sensor_s: int = 3600,
    sections: dict[str, Any] | None = None,
) -> Deployment:
    """Two sources of made-up products, sensors every 5 s (the model sensor every
    `model_sensor_s`), and DAGSTER_HOME/dagster.yaml; `sections` adds top-level sections to
    its sources.yaml (evaluation, ...)."""
    roots = write_corpus(tmp, age_s=600)
    sensors = {
        "source_change_interval_s": 5,
        "model_change_interval_s": model_sensor_s,
        "index_refresh_interval_s": 5,
    }
    config = write_config(tmp, roots, name="race", pipeline={"sensors": sensors}, sections=sections)
    home = tmp / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(instance_yaml, encoding="utf-8")
    env = {
        **os.environ,
        **extra_env,
        "DAGSTER_HOME": str(home),
        "RAG_SOURCES": str(tmp / "sources.yaml"),
        "DO_NOT_TRACK": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": str(REPO),
    }
    return Deployment(tmp, config, env, roots)


def fast_queue(instance_yaml: str) -> str:
    """The instance with its run queue looked at every second instead of Dagster's default 5 s
    (a latency knob, like the sensors' 5 s: the limits and pools stay as written)."""
    assert instance_yaml.count(QUEUE_CLASS) == 1, instance_yaml
    config = "  config:\n    dequeue_interval_seconds: 1\n"
    return instance_yaml.replace(QUEUE_CLASS, QUEUE_CLASS + config)


def sqlite_instance_yaml() -> str:
    """The zero-setup instance the CLI and `make dev` write (SQLite under DAGSTER_HOME)."""
    return fast_queue(DEV_INSTANCE_YAML)


def postgres_instance_yaml(log_dir: Path) -> str:
    """deploy/dagster.yaml as shipped, its compute-log folder moved under the test's temp dir."""
    text = DEPLOY_INSTANCE.read_text(encoding="utf-8")
    return fast_queue(text.replace("base_dir: /opt/dagster/logs", f"base_dir: {log_dir}"))


@contextmanager
def running_daemon(deployment: Deployment) -> Iterator[subprocess.Popen[bytes]]:
    """`dagster-daemon run` on the deployment (sensors, schedule, run queue) for the block."""
    log = (deployment.tmp / "daemon.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        cwd=REPO,
        env=deployment.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def daemon_log(deployment: Deployment) -> str:
    """The end of the daemon's output (for assertion messages)."""
    path = deployment.tmp / "daemon.log"
    return path.read_text(encoding="utf-8", errors="replace")[-4000:] if path.exists() else ""


def wait_until(what: str, predicate: object, timeout_s: float, poll_s: float = 0.5) -> None:
    """Poll `predicate()` until it is true; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(poll_s)


def all_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Every run of the instance, newest first."""
    return list(instance.get_runs())


def sensor_ticks(instance: dg.DagsterInstance, name: str, limit: int = 20) -> list[Any]:
    """The newest ticks of a sensor (none before its first evaluation)."""
    states = {
        s.name: s for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
    }
    state = states.get(name)
    if state is None:
        return []
    return list(instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=limit))


def sensors_ticked_since(instance: dg.DagsterInstance, since: float) -> bool:
    """Each 5 s sensor finished a tick that began after `since` (a run it requested in that
    tick is in the instance before the tick is marked finished)."""
    states = {
        s.name: s for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
    }
    for name in FAST_SENSORS:
        state = states.get(name)
        if state is None:
            return False
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=5)
        if not any(t.timestamp > since and t.status != TickStatus.STARTED for t in ticks):
            return False
    return True


def settled(instance: dg.DagsterInstance, quiet_s: float = 12.0) -> bool:
    """No run is queued or running, and the sensors have had a tick to react to the last one
    to end: each ticked since, or (should their ticks not be found) `quiet_s` passed."""
    records = instance.get_run_records()
    if any(r.dagster_run.status not in FINISHED for r in records):
        return False
    ends = [r.end_time for r in records if r.end_time]
    if not ends or time.time() - max(ends) > quiet_s:
        return True
    return sensors_ticked_since(instance, max(ends))

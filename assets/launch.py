"""Launch this pipeline's named jobs through the Dagster instance and follow them.

`python -m assets.launch [--tag K=V]... --stage JOB[:PARTITION],... [--stage ...]`

The Dagster side of `rag-pipelines materialize` (the library never imports dagster): runs are
created from the code location exactly as the UI creates them and submitted to the instance's
run coordinator, so they wait in the same queue as sensor, schedule and UI runs. Runs of one
stage go in together; the next stage starts when all of them succeeded. Progress goes to stdout
as JSON lines (see `rag_pipelines.runner`); the exit code is 0 only if every run succeeded.
With no live `dagster-daemon` nothing would take runs off the queue, so each run is executed
here, in this process, one after another (the file locks then refuse a colliding run); such
runs carry this process's host, pid and start time as tags, so a later launcher, sensor or build
that finds the process gone marks them failed (`assets.dead_runs`) instead of waiting on them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg
from dagster._cli.workspace.cli_target import (
    get_code_location_from_workspace,
    get_remote_job_from_remote_repo,
    get_remote_repository_from_code_location,
    get_workspace_from_cli_opts,
)
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.execution.api import execute_run_iterator
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.workspace.context import WorkspaceRequestContext
from dagster._daemon.controller import get_daemon_statuses
from dagster._utils.hosted_user_process import recon_job_from_origin
from dagster_shared.cli import WorkspaceOpts

from assets.dead_runs import fail_dead_runs
from assets.run_events import Follower, emit
from rag_pipelines.asset_graph import PARTITION_TAG
from rag_pipelines.liveness import current_worker

WORKSPACE_ENV = "RAG_DAGSTER_WORKSPACE"
_QUEUE_DAEMON = "QUEUED_RUN_COORDINATOR"
_NO_DAEMON_GRACE_S = 90.0


@dataclass(frozen=True)
class Launch:
    """One run to launch: a named job, and a partition for partitioned jobs."""

    job: str
    partition: str | None = None

    @property
    def label(self) -> str:
        """How the run is named in progress output."""
        return f"{self.job}[{self.partition}]" if self.partition else self.job


def parse_stage(text: str) -> list[Launch]:
    """`ingest_source:a,ingest_source:b` → two launches."""
    launches = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        job, _, partition = item.partition(":")
        launches.append(Launch(job, partition or None))
    return launches


def daemon_alive(instance: dg.DagsterInstance) -> bool:
    """True if a dagster-daemon is taking runs off this instance's queue."""
    if not isinstance(instance.run_coordinator, QueuedRunCoordinator):
        return False
    status = get_daemon_statuses(instance, [_QUEUE_DAEMON], heartbeat_tolerance_seconds=60)
    return status[_QUEUE_DAEMON].healthy is True


@contextmanager
def workspace(instance: dg.DagsterInstance) -> Iterator[WorkspaceRequestContext]:
    """The code location: $RAG_DAGSTER_WORKSPACE's workspace file, else the `assets` module
    (what the repository's workspace.yaml loads, under the same location name)."""
    path = os.environ.get(WORKSPACE_ENV)
    opts = WorkspaceOpts(workspace=[path]) if path else WorkspaceOpts(module_name=["assets"])
    with get_workspace_from_cli_opts(
        instance, dg.__version__, opts, allow_in_process=True
    ) as context:
        yield context


def create_run(
    instance: dg.DagsterInstance,
    context: WorkspaceRequestContext,
    launch: Launch,
    tags: dict[str, str],
) -> dg.DagsterRun:
    """A run of the named job created as the UI creates one (job tags, partition tag, origin)."""
    location = get_code_location_from_workspace(context, None)
    repo = get_remote_repository_from_code_location(location, None)
    remote_job = get_remote_job_from_remote_repo(repo, launch.job)
    run_tags = {**remote_job.tags, **tags}
    if launch.partition is not None:
        run_tags[PARTITION_TAG] = launch.partition
    selector = JobSubsetSelector(
        location_name=location.name,
        repository_name=repo.name,
        job_name=launch.job,
        op_selection=None,
    )
    remote_job = location.get_job(selector)
    plan = location.get_execution_plan(
        remote_job, {}, step_keys_to_execute=None, known_state=None, instance=instance
    )
    return instance.create_run(
        job_name=launch.job,
        run_id=None,
        run_config={},
        resolved_op_selection=None,
        step_keys_to_execute=plan.execution_plan_snapshot.step_keys_to_execute,
        op_selection=None,
        status=None,
        root_run_id=None,
        parent_run_id=None,
        tags=run_tags,
        job_snapshot=remote_job.job_snapshot,
        execution_plan_snapshot=plan.execution_plan_snapshot,
        parent_job_snapshot=remote_job.parent_job_snapshot,
        remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(),
        asset_selection=None,
        asset_check_selection=None,
        asset_graph=repo.asset_graph,
    )


def run_stage(
    instance: dg.DagsterInstance,
    context: WorkspaceRequestContext,
    launches: Sequence[Launch],
    tags: dict[str, str],
) -> bool:
    """Launch a stage's runs together and follow them to the end; True if all succeeded."""
    queued = daemon_alive(instance)
    if not queued:  # this process will execute the runs: say which process, for liveness
        tags = {**tags, **current_worker().tags()}
    followers = []
    for launch in launches:
        run = create_run(instance, context, launch, tags)
        emit("run", launch.label, run_id=run.run_id, job=launch.job, queued=queued)
        if queued:
            instance.submit_run(run.run_id, context)
        followers.append(Follower(instance, run.run_id, launch.label))
    if not queued:  # nobody dequeues: execute here, one run after another
        for follower in followers:
            stored = instance.get_run_by_id(follower.run_id)
            if stored is None or stored.job_code_origin is None:
                raise RuntimeError(f"run {follower.run_id} vanished from the instance")
            job = recon_job_from_origin(stored.job_code_origin)
            for _ in execute_run_iterator(job, stored, instance):
                follower.poll()
            follower.finish()
        return all(f.succeeded for f in followers)
    started = time.monotonic()
    while not all(f.done for f in followers):
        for follower in followers:
            follower.poll()
        if time.monotonic() - started > _NO_DAEMON_GRACE_S and not daemon_alive(instance):
            waiting = [f.run_id for f in followers if f.status == dg.DagsterRunStatus.QUEUED]
            if waiting:
                emit("stalled", "queue", runs=waiting)
                return False
        time.sleep(0.5)
    return all(f.succeeded for f in followers)


def main(argv: Sequence[str]) -> int:
    """Launch the stages in order; 0 if every run succeeded, 1 otherwise."""
    parser = argparse.ArgumentParser(prog="python -m assets.launch")
    parser.add_argument("--stage", action="append", required=True, help="JOB[:PARTITION],...")
    parser.add_argument("--tag", action="append", default=[], help="KEY=VALUE on every run")
    args = parser.parse_args(argv)
    tags = dict(tag.split("=", 1) for tag in args.tag)
    with dg.DagsterInstance.get() as instance, workspace(instance) as context:
        for run_id in fail_dead_runs(instance):
            emit("log", "instance", run_id=run_id, message=f"marked dead run {run_id} failed")
        for stage in args.stage:
            if not run_stage(instance, context, parse_stage(stage), tags):
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

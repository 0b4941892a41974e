"""Runs whose recorded worker process is gone are marked failed; live, reused-pid and other
hosts' workers are told apart (rag_pipelines.liveness, assets.dead_runs)."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import dagster as dg
import psutil
import pytest

from assets.dead_runs import fail_dead_runs
from assets.definitions import build_definitions
from rag_pipelines.asset_graph import INDEX_REFRESH_SENSOR, INGEST_JOB, PARTITION_TAG
from rag_pipelines.liveness import RunWorker, WorkerState, current_worker, worker_state
from tests.dataops.corpus import write_config, write_corpus


def gone_worker() -> RunWorker:
    """A process of this host that was SIGKILLed (and reaped)."""
    proc = subprocess.Popen(["sleep", "60"])
    worker = replace(current_worker(), pid=proc.pid, started=psutil.Process(proc.pid).create_time())
    proc.kill()
    proc.wait()
    return worker


def add_run(
    instance: dg.DagsterInstance, worker: RunWorker, status: dg.DagsterRunStatus
) -> dg.DagsterRun:
    """An ingest run the CLI's launcher executes in `worker`."""
    run = dg.DagsterRun(job_name=INGEST_JOB, tags={PARTITION_TAG: "alpha", **worker.tags()})
    return instance.add_run(run.with_status(status))


@pytest.mark.parametrize(
    "status",
    [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED],
)
def test_a_run_whose_worker_is_gone_is_marked_failed(status: dg.DagsterRunStatus) -> None:
    """Regression: a SIGKILLed CLI run stayed STARTED (or NOT_STARTED) for ever."""
    worker = gone_worker()
    assert worker_state(worker) is WorkerState.GONE
    with dg.DagsterInstance.ephemeral() as instance:
        run = add_run(instance, worker, status)
        assert fail_dead_runs(instance) == [run.run_id]
        stored = instance.get_run_by_id(run.run_id)
        assert stored is not None and stored.status == dg.DagsterRunStatus.FAILURE
        [failure] = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert failure.dagster_event is not None
        message = failure.dagster_event.message or ""
        assert f"pid {worker.pid}" in message and "is gone" in message
        assert fail_dead_runs(instance) == []  # once


def test_live_foreign_and_untagged_runs_are_left_alone() -> None:
    """This process's run, another host's and a daemon-launched (untagged) one stay running."""
    me = current_worker()
    with dg.DagsterInstance.ephemeral() as instance:
        mine = add_run(instance, me, dg.DagsterRunStatus.STARTED)
        elsewhere = add_run(
            instance, replace(gone_worker(), host="another-host"), dg.DagsterRunStatus.STARTED
        )
        daemon = instance.add_run(
            dg.DagsterRun(job_name=INGEST_JOB).with_status(dg.DagsterRunStatus.STARTED)
        )
        assert fail_dead_runs(instance) == []
        for run in (mine, elsewhere, daemon):
            stored = instance.get_run_by_id(run.run_id)
            assert stored is not None and stored.status == dg.DagsterRunStatus.STARTED


def test_a_reused_pid_is_not_the_worker() -> None:
    """A live process with the recorded pid but another start time is not the run's worker."""
    reused = replace(current_worker(), started=current_worker().started - 3600)
    assert worker_state(reused) is WorkerState.GONE
    assert worker_state(current_worker()) is WorkerState.ALIVE


def test_a_dead_ingest_run_does_not_hold_the_refresh_sensor(tmp_path: Path) -> None:
    """Regression: the refresh sensor skipped for ever behind a killed CLI ingest run."""
    config = write_config(tmp_path, write_corpus(tmp_path))
    defs = build_definitions(config)
    with dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization("embeddings", partition="alpha")
        )
        add_run(instance, gone_worker(), dg.DagsterRunStatus.STARTED)
        context = dg.build_sensor_context(instance=instance, definitions=defs)
        data = defs.get_sensor_def(INDEX_REFRESH_SENSOR).evaluate_tick(context)
        assert data.run_requests, data.skip_message

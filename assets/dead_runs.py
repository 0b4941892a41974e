"""Mark failed the runs whose worker process is gone, so nothing waits on them.

A run executed by the CLI's launcher (no dagster-daemon) records its worker's host, pid and
start time as run tags (`rag_pipelines.liveness`). If that process is SIGKILLed, OOM-killed or
the machine loses power, the run would stay STARTED (or NOT_STARTED, for the launcher's later
runs) forever and every build's snapshot would wait for it. Anything on the same host that asks
which runs are writing first calls `fail_dead_runs`. Runs launched by a daemon carry no such
tags: Dagster's run monitoring (`run_monitoring` in dagster.yaml) looks after those.
"""

from __future__ import annotations

import dagster as dg

from rag_pipelines.asset_graph import WORKER_HOST_TAG
from rag_pipelines.liveness import RunWorker, WorkerState, this_host, worker_state

UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Report every unfinished run of this host whose worker process is gone as failed; their
    ids."""
    runs = instance.get_runs(
        dg.RunsFilter(statuses=UNFINISHED, tags={WORKER_HOST_TAG: this_host()})
    )
    failed = []
    for run in runs:
        worker = RunWorker.from_tags(dict(run.tags))
        if worker is None or worker_state(worker) is not WorkerState.GONE:
            continue
        current = instance.get_run_by_id(run.run_id)  # it may have ended since the query
        if current is None or current.status not in UNFINISHED:
            continue
        instance.report_run_failed(
            current,
            f"The process executing this run ({worker.describe()}) is gone: it was killed "
            f"or crashed while the run was {current.status.value}. Marked failed so later "
            "runs can go on; run the job again to redo its work.",
        )
        failed.append(run.run_id)
    return failed

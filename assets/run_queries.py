"""Which runs of this pipeline are writing right now, from the instance's run storage.

Sensors and the build's snapshot step ask this instead of guessing: it sees runs of the named
jobs whoever launched them (UI, CLI, sensors, schedule) and ad-hoc UI materializations of the
same assets. Runs whose worker process died are marked failed first (`assets.dead_runs`), so
a killed run never counts as writing.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from assets.dead_runs import fail_dead_runs
from rag_pipelines.asset_graph import CORPUS_WIDE, INGEST_JOB, PER_SOURCE, PUBLISH_JOB

IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
RUNNING = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def writing_runs(
    instance: dg.DagsterInstance,
    jobs: Iterable[str],
    assets: Iterable[str],
    statuses: list[dg.DagsterRunStatus] = IN_PROGRESS,
    exclude: str | None = None,
) -> list[str]:
    """Ids of runs in `statuses` that are one of `jobs` or materialize any of `assets`."""
    names, keys = set(jobs), {dg.AssetKey(a) for a in assets}
    fail_dead_runs(instance)
    runs = instance.get_runs(dg.RunsFilter(statuses=statuses))
    return [
        r.run_id
        for r in runs
        if r.run_id != exclude and (r.job_name in names or keys & set(r.asset_selection or ()))
    ]


def ingest_runs(
    instance: dg.DagsterInstance,
    statuses: list[dg.DagsterRunStatus] = IN_PROGRESS,
    exclude: str | None = None,
) -> list[str]:
    """Runs writing any source's documents, chunks or embeddings."""
    return writing_runs(instance, [INGEST_JOB], PER_SOURCE, statuses, exclude)


def build_runs(instance: dg.DagsterInstance, exclude: str | None = None) -> list[str]:
    """Runs building or publishing an index version."""
    return writing_runs(instance, [PUBLISH_JOB], CORPUS_WIDE, IN_PROGRESS, exclude)

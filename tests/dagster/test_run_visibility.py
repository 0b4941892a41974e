"""The index-refresh sensor sees every writing run, whoever launched it (CLI, UI, sensors)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from assets.definitions import build_definitions
from rag_pipelines.asset_graph import (
    CORPUS_SNAPSHOT,
    DOCUMENTS,
    EMBEDDINGS,
    INDEX_REFRESH_SENSOR,
    PUBLISH_JOB,
    PUBLISHED_INDEX,
    TRIGGER_TAG,
)
from rag_pipelines.config.models import SourcesFile
from tests.dataops.corpus import write_config, write_corpus


def tick(config: SourcesFile, instance: dg.DagsterInstance) -> dg.SensorExecutionData:
    """One tick of the index-refresh sensor, as the daemon runs it."""
    defs = build_definitions(config)
    context = dg.build_sensor_context(instance=instance, definitions=defs)
    return defs.get_sensor_def(INDEX_REFRESH_SENSOR).evaluate_tick(context)


@pytest.fixture
def config(tmp_path: Path) -> SourcesFile:
    """A two-source pipeline (nothing run yet)."""
    return write_config(tmp_path, write_corpus(tmp_path))


def _new_embeddings(instance: dg.DagsterInstance) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(EMBEDDINGS, partition="alpha"))


@pytest.mark.parametrize(
    ("run", "message"),
    [
        (  # the CLI's build: the named job, tagged rag/trigger=cli
            dg.DagsterRun(job_name=PUBLISH_JOB, tags={TRIGGER_TAG: "cli"}),
            "waiting for the running build to finish",
        ),
        (  # "Materialize" of the published index in the UI: an ad-hoc asset job
            dg.DagsterRun(
                job_name="__ASSET_JOB", asset_selection=frozenset({dg.AssetKey(PUBLISHED_INDEX)})
            ),
            "waiting for the running build to finish",
        ),
        (  # a UI backfill's per-source run
            dg.DagsterRun(
                job_name="__ASSET_JOB", asset_selection=frozenset({dg.AssetKey(DOCUMENTS)})
            ),
            "waiting for ingest runs to finish",
        ),
    ],
)
@pytest.mark.parametrize("status", [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTED])
def test_refresh_sensor_waits_for_writing_runs_of_any_launcher(
    config: SourcesFile, run: dg.DagsterRun, message: str, status: dg.DagsterRunStatus
) -> None:
    """Regression: CLI runs were `__ASSET_JOB` and the sensor only looked for ingest_source
    runs, so it launched build_and_publish beside the CLI's build, which failed PipelineBusy."""
    with dg.DagsterInstance.ephemeral() as instance:
        _new_embeddings(instance)
        added = instance.add_run(run.with_status(status))
        waiting = tick(config, instance)
        assert not waiting.run_requests
        assert waiting.skip_message == message
        assert waiting.cursor is None  # still owed once that run ends
        instance.delete_run(added.run_id)  # the run is gone: the build is due
        assert tick(config, instance).run_requests


def test_refresh_sensor_skips_embeddings_a_build_already_used(config: SourcesFile) -> None:
    """A CLI or UI build that snapshotted the newest embeddings leaves nothing to build."""
    with dg.DagsterInstance.ephemeral() as instance:
        _new_embeddings(instance)
        instance.report_runless_asset_event(dg.AssetMaterialization(CORPUS_SNAPSHOT))
        data = tick(config, instance)
        assert not data.run_requests
        assert data.skip_message == "the newest embeddings were already built into a version"
        assert data.cursor is not None
        _new_embeddings(instance)  # then a newer ingest: a build is owed again
        context = dg.build_sensor_context(
            instance=instance, cursor=data.cursor, definitions=build_definitions(config)
        )
        again = build_definitions(config).get_sensor_def(INDEX_REFRESH_SENSOR)
        assert again.evaluate_tick(context).run_requests

"""Sensors and the nightly schedule: refresh what changed, re-embed when the model changes."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg

from assets.run_queries import build_runs, ingest_runs
from rag_pipelines.asset_graph import (
    CORPUS_SNAPSHOT,
    EMBEDDINGS,
    INDEX_REFRESH_SENSOR,
    MODEL_VERSION_SENSOR,
    NIGHTLY_SCHEDULE,
    SOURCE_CHANGE_SENSOR,
    TRIGGER_TAG,
)
from rag_pipelines.context import PipelineContext
from rag_pipelines.pipeline.build.changes import changed_sources, model_change
from rag_pipelines.pipeline.config_changes import read_current

# Sensors start with the daemon (`make dev`, a deployment): said where the UI lists them.
_RUNS_BY_DEFAULT = "Runs as soon as a daemon starts (stop it in the UI to pause it). "


def build_automation(
    ctx: PipelineContext,
    ingest_job: Any,
    publish_job: Any,
    sources_path: Path | None = None,
) -> tuple[list[dg.SensorDefinition], list[dg.ScheduleDefinition]]:
    """The pipeline's sensors and schedule; with `sources_path`, each tick acts on that file
    as it is now (or skips, saying why, when only a reload of the definitions can apply it)."""
    sensors = ctx.config.pipeline.sensors
    current = _current_context(ctx, sources_path)
    schedule = ctx.config.pipeline.schedule

    @dg.sensor(
        name=SOURCE_CHANGE_SENSOR,
        description=_RUNS_BY_DEFAULT + "Requests ingest_source for each changed source or shard.",
        job=ingest_job,
        minimum_interval_seconds=sensors.source_change_interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def source_change_sensor(
        context: dg.SensorEvaluationContext,
    ) -> dg.SensorResult | dg.SkipReason:
        """Request a run for each partition (source or shard) whose files changed."""
        now = current(context)
        if isinstance(now, dg.SkipReason):
            return now
        requested: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        changes = changed_sources(now, requested)
        if not changes:
            return dg.SkipReason("no source changed since its last ingest")
        for change in changes:
            requested[change.partition] = change.signature
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    partition_key=c.partition,
                    run_key=f"{c.partition}:{c.signature[:16]}",
                    tags={TRIGGER_TAG: "source-change"},
                )
                for c in changes
            ],
            cursor=json.dumps(requested, sort_keys=True),
        )

    @dg.sensor(
        name=MODEL_VERSION_SENSOR,
        description=_RUNS_BY_DEFAULT + "Re-embeds every source when the model changes.",
        job=ingest_job,
        minimum_interval_seconds=sensors.model_change_interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def model_version_sensor(
        context: dg.SensorEvaluationContext,
    ) -> dg.SensorResult | dg.SkipReason:
        """Re-embed every source into a new version when the configured model changes."""
        now = current(context)
        if isinstance(now, dg.SkipReason):
            return now
        change = model_change(now)
        if change is None:
            return dg.SkipReason("the live index uses the configured model")
        if context.cursor == change.key:
            return dg.SkipReason(f"re-embedding for {change.configured} already requested")
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    partition_key=key,
                    run_key=f"model:{change.key}:{key}",
                    tags={TRIGGER_TAG: "model-change", "rag/model": change.configured[:60]},
                )
                for key in now.partition_keys()
            ],
            cursor=change.key,
        )

    @dg.sensor(
        name=INDEX_REFRESH_SENSOR,
        description=_RUNS_BY_DEFAULT + "Builds and publishes once new embeddings exist.",
        job=publish_job,
        minimum_interval_seconds=sensors.index_refresh_interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def index_refresh_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        """Build, check and publish a new version once new embeddings exist and no run writes."""
        now = current(context)
        if isinstance(now, dg.SkipReason):
            return now
        latest = _latest_storage_id(context.instance, EMBEDDINGS)
        if latest is None:
            return dg.SkipReason("no embeddings materialized yet")
        if context.cursor and int(context.cursor) >= latest:
            return dg.SkipReason("no new embeddings since the last build")
        # The cursor stays while runs write: the first tick after they finish decides.
        if ingest_runs(context.instance):
            return dg.SkipReason("waiting for ingest runs to finish")
        if build_runs(context.instance):
            return dg.SkipReason("waiting for the running build to finish")
        built = _latest_storage_id(context.instance, CORPUS_SNAPSHOT)
        context.update_cursor(str(latest))
        if built is not None and built > latest:  # a CLI/UI build already used them
            return dg.SkipReason("the newest embeddings were already built into a version")
        return dg.RunRequest(run_key=f"refresh:{latest}", tags={TRIGGER_TAG: "new-embeddings"})

    schedules: list[dg.ScheduleDefinition] = []
    if schedule.enabled:

        @dg.schedule(
            name=NIGHTLY_SCHEDULE,
            cron_schedule=schedule.cron,
            execution_timezone=schedule.timezone,
            job=ingest_job,
            default_status=dg.DefaultScheduleStatus.RUNNING,
        )
        def nightly_refresh(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
            """Re-ingest every source (unchanged files are free); the refresh sensor publishes."""
            day = context.scheduled_execution_time.strftime("%Y-%m-%d")
            return [
                dg.RunRequest(
                    partition_key=key,
                    run_key=f"nightly:{day}:{key}",
                    tags={TRIGGER_TAG: "nightly"},
                )
                for key in ctx.partition_keys()
            ]

        schedules.append(nightly_refresh)
    return [source_change_sensor, model_version_sensor, index_refresh_sensor], schedules


def _current_context(
    loaded: PipelineContext, path: Path | None
) -> Callable[[dg.SensorEvaluationContext], PipelineContext | dg.SkipReason]:
    """A tick's view of the pipeline: sources.yaml re-read now, or why the sensor waits."""

    def current(context: dg.SensorEvaluationContext) -> PipelineContext | dg.SkipReason:
        if path is None:
            return loaded
        now = read_current(path, loaded.config)
        if now.config is None:
            context.log.warning(now.problem)
            return dg.SkipReason(now.problem)
        return loaded if now.config == loaded.config else PipelineContext(now.config)

    return current


def _latest_storage_id(instance: dg.DagsterInstance, asset: str) -> int | None:
    """Storage id of an asset's newest materialization (ids grow with time), or None."""
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=1).records
    return records[0].storage_id if records else None

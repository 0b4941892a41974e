"""Sensors and the nightly schedule: refresh what changed, re-embed when the model changes."""

import json
from typing import Any

import dagster as dg

from rag_pipelines.context import PipelineContext
from rag_pipelines.pipeline.build.changes import changed_sources, model_change

INGEST_JOB = "ingest_source"
PUBLISH_JOB = "build_and_publish"
_IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def build_automation(
    ctx: PipelineContext,
    ingest_job: Any,
    publish_job: Any,
) -> tuple[list[dg.SensorDefinition], list[dg.ScheduleDefinition]]:
    """The pipeline's sensors and schedule."""
    sensors = ctx.config.pipeline.sensors
    schedule = ctx.config.pipeline.schedule

    @dg.sensor(
        job=ingest_job,
        minimum_interval_seconds=sensors.source_change_interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def source_change_sensor(
        context: dg.SensorEvaluationContext,
    ) -> dg.SensorResult | dg.SkipReason:
        """Request a run for each source whose files were added, edited or deleted."""
        requested: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        changes = changed_sources(ctx, requested)
        if not changes:
            return dg.SkipReason("no source changed since its last ingest")
        for change in changes:
            requested[change.source] = change.signature
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    partition_key=c.source,
                    run_key=f"{c.source}:{c.signature[:16]}",
                    tags={"rag/trigger": "source-change"},
                )
                for c in changes
            ],
            cursor=json.dumps(requested, sort_keys=True),
        )

    @dg.sensor(
        job=ingest_job,
        minimum_interval_seconds=sensors.model_change_interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def model_version_sensor(
        context: dg.SensorEvaluationContext,
    ) -> dg.SensorResult | dg.SkipReason:
        """Re-embed every source into a new version when the configured model changes."""
        change = model_change(ctx)
        if change is None:
            return dg.SkipReason("the live index uses the configured model")
        if context.cursor == change.key:
            return dg.SkipReason(f"re-embedding for {change.configured} already requested")
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    partition_key=s.name,
                    run_key=f"model:{change.key}:{s.name}",
                    tags={"rag/trigger": "model-change", "rag/model": change.configured[:60]},
                )
                for s in ctx.config.sources
            ],
            cursor=change.key,
        )

    @dg.sensor(
        job=publish_job,
        minimum_interval_seconds=sensors.index_refresh_interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def index_refresh_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        """Build, check and publish a new version once new embeddings exist and ingests finished."""
        records = context.instance.fetch_materializations(
            dg.AssetKey("embeddings"), limit=1
        ).records
        if not records:
            return dg.SkipReason("no embeddings materialized yet")
        latest = records[0].storage_id
        if context.cursor and int(context.cursor) >= latest:
            return dg.SkipReason("no new embeddings since the last build")
        busy = context.instance.get_runs(
            dg.RunsFilter(job_name=INGEST_JOB, statuses=_IN_PROGRESS), limit=1
        )
        if busy:
            return dg.SkipReason("waiting for ingest runs to finish")
        context.update_cursor(str(latest))
        return dg.RunRequest(run_key=f"refresh:{latest}", tags={"rag/trigger": "new-embeddings"})

    schedules: list[dg.ScheduleDefinition] = []
    if schedule.enabled:

        @dg.schedule(
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
                    partition_key=s.name,
                    run_key=f"nightly:{day}:{s.name}",
                    tags={"rag/trigger": "nightly"},
                )
                for s in ctx.config.sources
            ]

        schedules.append(nightly_refresh)
    return [source_change_sensor, model_version_sensor, index_refresh_sensor], schedules

"""Build the Dagster Definitions for one parsed sources.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from assets.automation import build_automation
from assets.evaluation_assets import build_evaluation_assets
from assets.executor import build_executor
from assets.index_assets import build_index_assets
from assets.resources import BuildLockResource, EmbeddingModelResource, VectorStoreResource
from assets.source_assets import build_source_assets
from rag_pipelines.asset_graph import (
    CORPUS_WIDE,
    INGEST_JOB,
    OPT_IN_JOBS,
    PER_SOURCE,
    PIPELINE_TAG,
    PUBLISH_JOB,
)
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext

__all__ = ["CORPUS_WIDE", "PER_SOURCE", "PipelineParts", "build_definitions", "build_parts"]


@dataclass(frozen=True)
class PipelineParts:
    """The unbound pieces of a pipeline's code location (tests materialize these directly)."""

    assets: list[dg.AssetsDefinition]
    checks: list[dg.AssetChecksDefinition]
    resources: dict[str, Any]
    partitions: dg.StaticPartitionsDefinition


def build_parts(config: SourcesFile) -> PipelineParts:
    """Assets, checks and resources for a pipeline."""
    ctx = PipelineContext(config)
    # One partition per source, or per shard of a sharded source (`<source>~<k>`).
    partitions = dg.StaticPartitionsDefinition(ctx.partition_keys())
    source_assets = build_source_assets(ctx, partitions)
    index_assets, checks = build_index_assets(ctx, source_assets[-1])
    resources = {
        "embedding_model": EmbeddingModelResource.from_settings(
            config.embedding, str(config.pipeline.data_dir)
        ),
        "vector_store": VectorStoreResource.from_settings(
            config.index.qdrant, str(config.pipeline.data_dir)
        ),
        "build_lock": BuildLockResource(data_dir=str(config.pipeline.data_dir)),
    }
    optional = build_evaluation_assets(ctx)  # experiments, embedding_finetune: when configured
    return PipelineParts([*source_assets, *index_assets, *optional], checks, resources, partitions)


def build_jobs(config: SourcesFile, parts: PipelineParts) -> list[dg.UnresolvedAssetJobDefinition]:
    """The named jobs every launcher uses (UI, sensors, schedule, CLI), tagged with the pipeline.

    The ingest job's partitions come from its assets (passing partitions_def is deprecated).
    """
    tags = {PIPELINE_TAG: config.pipeline.name}
    jobs = [
        dg.define_asset_job(
            INGEST_JOB,
            selection=PER_SOURCE,
            tags=tags,
            description="Parse, chunk and embed one source or shard (a partition).",
        ),
        dg.define_asset_job(
            PUBLISH_JOB,
            selection=dg.AssetSelection.assets(*CORPUS_WIDE),
            tags=tags,
            description="Build a new index version from all sources, check it, publish it.",
        ),
    ]
    present = {key.to_user_string() for a in parts.assets for key in a.keys}
    for asset, job in OPT_IN_JOBS.items():
        if asset in present:
            jobs.append(
                dg.define_asset_job(
                    job, selection=[asset], tags=tags, description=f"Materialize {asset} (opt-in)."
                )
            )
    return jobs


def build_definitions(config: SourcesFile, sources_path: Path | None = None) -> dg.Definitions:
    """The Definitions Dagster loads: parts plus jobs, sensors, schedule and the executor.

    `sources_path` is the file `config` came from: the sensors re-read it on every tick.
    """
    parts = build_parts(config)
    jobs = build_jobs(config, parts)
    ctx = PipelineContext(config)
    sensors, schedules = build_automation(ctx, jobs[0], jobs[1], sources_path)
    return dg.Definitions(
        assets=parts.assets,
        asset_checks=parts.checks,
        jobs=jobs,
        sensors=sensors,
        schedules=schedules,
        resources=parts.resources,
        executor=build_executor(),
    )

"""Build the Dagster Definitions for one parsed sources.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dagster as dg

from assets.automation import build_automation
from assets.evaluation_assets import build_evaluation_assets
from assets.index_assets import build_index_assets
from assets.resources import BuildLockResource, EmbeddingModelResource, VectorStoreResource
from assets.source_assets import build_source_assets
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.pipeline.context import PipelineContext

PER_SOURCE = ["documents", "chunks", "embeddings"]
CORPUS_WIDE = [
    "feedback",
    "corpus_snapshot",
    "vector_index",
    "bm25_index",
    "graph_index",
    "candidate_index",
    "reranker",
    "published_index",
]


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
    partitions = dg.StaticPartitionsDefinition([s.name for s in config.sources])
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


def build_definitions(config: SourcesFile) -> dg.Definitions:
    """The Definitions Dagster loads: parts plus jobs and the executor."""
    parts = build_parts(config)
    ingest_job = dg.define_asset_job(
        "ingest_source",
        selection=PER_SOURCE,
        partitions_def=parts.partitions,
        description="Parse, chunk and embed one source (a partition).",
    )
    publish_job = dg.define_asset_job(
        "build_and_publish",
        selection=dg.AssetSelection.assets(*CORPUS_WIDE),
        description="Build a new index version from all sources, check it, publish it.",
    )
    sensors, schedules = build_automation(PipelineContext(config), ingest_job, publish_job)
    return dg.Definitions(
        assets=parts.assets,
        asset_checks=parts.checks,
        jobs=[ingest_job, publish_job],
        sensors=sensors,
        schedules=schedules,
        resources=parts.resources,
        # One process per run: the model loads once and the Edge shard is opened once.
        executor=dg.in_process_executor,
    )

"""Materialize a whole pipeline the way the CLI does: one run per source, then the index."""

from __future__ import annotations

import dagster as dg

from assets.definitions import build_parts
from rag_pipelines.asset_graph import CORPUS_WIDE, PER_SOURCE
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext


def materialize_pipeline(
    config: SourcesFile,
    instance: dg.DagsterInstance,
    sources: list[str] | None = None,
    resources: dict[str, object] | None = None,
    raise_on_error: bool = True,
) -> list[dg.ExecuteInProcessResult]:
    """dg.materialize each source partition, then the corpus-wide assets and their checks."""
    results = materialize_sources(config, instance, sources, resources, raise_on_error)
    results.append(
        materialize_corpus(config, instance, CORPUS_WIDE, resources, raise_on_error=raise_on_error)
    )
    return results


def materialize_sources(
    config: SourcesFile,
    instance: dg.DagsterInstance,
    sources: list[str] | None = None,
    resources: dict[str, object] | None = None,
    raise_on_error: bool = True,
) -> list[dg.ExecuteInProcessResult]:
    """One `ingest_source` run per partition of the sources (every shard): documents, chunks,
    embeddings. `sources` may name sources or single partition keys (`<source>~<k>`)."""
    parts = build_parts(config)
    keys = PipelineContext(config).partition_keys(sources or None)
    return [
        dg.materialize(
            [*parts.assets, *parts.checks],
            selection=PER_SOURCE,
            partition_key=key,
            instance=instance,
            resources={**parts.resources, **(resources or {})},
            raise_on_error=raise_on_error,
        )
        for key in keys
    ]


def materialize_corpus(
    config: SourcesFile,
    instance: dg.DagsterInstance,
    assets: list[str],
    resources: dict[str, object] | None = None,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    """One run of some corpus-wide assets (with their checks); inputs come from earlier runs."""
    parts = build_parts(config)
    return dg.materialize(
        [*parts.assets, *parts.checks],
        selection=dg.AssetSelection.assets(*assets),
        instance=instance,
        resources={**parts.resources, **(resources or {})},
        raise_on_error=raise_on_error,
    )


def metadata_of(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, object]:
    """The metadata values of an asset's materialization in a run."""
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(asset):
            return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}
    raise KeyError(f"{asset} was not materialized in this run")

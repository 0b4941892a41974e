"""Materialize a whole pipeline the way the CLI does: one run per source, then the index."""

from __future__ import annotations

import dagster as dg

from assets.definitions import CORPUS_WIDE, PER_SOURCE, build_parts
from rag_pipelines.config.models import SourcesFile


def materialize_pipeline(
    config: SourcesFile,
    instance: dg.DagsterInstance,
    sources: list[str] | None = None,
    resources: dict[str, object] | None = None,
    raise_on_error: bool = True,
) -> list[dg.ExecuteInProcessResult]:
    """dg.materialize each source partition, then the corpus-wide assets and their checks."""
    parts = build_parts(config)
    assets = [*parts.assets, *parts.checks]
    merged = {**parts.resources, **(resources or {})}
    results = []
    for name in sources or [s.name for s in config.sources]:
        results.append(
            dg.materialize(
                assets,
                selection=PER_SOURCE,
                partition_key=name,
                instance=instance,
                resources=merged,
                raise_on_error=raise_on_error,
            )
        )
    results.append(
        dg.materialize(
            assets,
            selection=dg.AssetSelection.assets(*CORPUS_WIDE),
            instance=instance,
            resources=merged,
            raise_on_error=raise_on_error,
        )
    )
    return results


def metadata_of(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, object]:
    """The metadata values of an asset's materialization in a run."""
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(asset):
            return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}
    raise KeyError(f"{asset} was not materialized in this run")

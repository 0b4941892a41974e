"""Stage 5: publish a checked version atomically and collect old ones."""

from __future__ import annotations

from dataclasses import dataclass

from rag_pipelines.index.manifest import LivePointer
from rag_pipelines.index.stores import alias_name
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.pipeline.checks import BLOCKING_CHECKS
from rag_pipelines.pipeline.context import PipelineContext


@dataclass
class PublishReport:
    """What publishing did."""

    pointer: LivePointer
    changed: bool
    collected: list[str]


def publish(ctx: PipelineContext, version: str, store: VectorStore) -> PublishReport:
    """Point the live alias and LIVE.json at `version` if its blocking checks passed."""
    registry = ctx.registry
    current = registry.live()
    if current is not None and current.version == version:
        return PublishReport(pointer=current, changed=False, collected=[])
    manifest = registry.manifest(version)
    registry.ensure_publishable(version, BLOCKING_CHECKS)
    alias = alias_name(ctx.config.index.qdrant, ctx.config.pipeline.name)
    store.point_alias(alias, manifest.collection)
    store.point_alias(f"{alias}_bm25", manifest.bm25_collection)
    pointer = registry.point_live(version)
    return PublishReport(pointer=pointer, changed=True, collected=collect_garbage(ctx, store))


def collect_garbage(ctx: PipelineContext, store: VectorStore) -> list[str]:
    """Drop versions beyond the retention count (never the live one)."""
    registry = ctx.registry
    removed: list[str] = []
    for version in registry.collectable(ctx.config.index.retention):
        manifest = registry.manifest(version)
        store.drop_collection(manifest.collection)
        store.drop_collection(manifest.bm25_collection)
        registry.remove(version)
        removed.append(version)
    return removed

"""Remove what a crashed build left behind: version folders without a manifest, and their
collections. Only call this while holding the build lock (nothing else is building then)."""

from __future__ import annotations

from rag_pipelines.context import PipelineContext
from rag_pipelines.index.stores import collection_name
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.pipeline.build.generation import BM25_SUFFIX, DENSE_SUFFIX


def remove_incomplete_builds(ctx: PipelineContext, store: VectorStore) -> list[str]:
    """Delete every incomplete build folder and its collections; return their versions."""
    registry = ctx.registry
    removed: list[str] = []
    for version in registry.incomplete():
        name = collection_name(ctx.config.index.qdrant, ctx.config.pipeline.name, version)
        store.drop_collection(name)
        store.drop_collection(name + "_bm25")
        for generation in (name + DENSE_SUFFIX, name + BM25_SUFFIX):  # one it started, unused
            store.drop_collection(generation)
            (ctx.workspace.generations_dir / f"{generation}.json").unlink(missing_ok=True)
        registry.discard(version)
        removed.append(version)
    return removed

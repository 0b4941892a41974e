"""Garbage collection of generation collections: expired points, and generations nobody uses."""

from __future__ import annotations

import re

from rag_pipelines.context import PipelineContext
from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.generation_store import GenerationWriter
from rag_pipelines.index.stores import collection_name
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.pipeline.build.generation import (
    BM25_SUFFIX,
    DENSE_SUFFIX,
    generation_manifests,
)


def collect_generations(ctx: PipelineContext, store: VectorStore) -> list[str]:
    """Delete points whose valid_to <= the oldest kept version of their generation, and drop
    generation collections no kept version uses; the dropped collections' names."""
    if not isinstance(store, ClientVectorStore):  # Edge: copy-per-version only
        return []
    manifests = generation_manifests(ctx)
    if not manifests and ctx.config.index.qdrant.versioning != "generation":
        return []
    oldest: dict[str, int] = {}
    for manifest in manifests:  # by sequence number: the first seen is the oldest kept
        assert manifest.generation is not None
        for name in (manifest.collection, manifest.bm25_collection):
            oldest.setdefault(name, manifest.generation.sequence)
    for name, sequence in oldest.items():
        GenerationWriter(store, name).expire(sequence)
    prefix = collection_name(ctx.config.index.qdrant, ctx.config.pipeline.name, "")
    dropped = [n for n in store.collections() if own_generation(prefix, n) and n not in oldest]
    for name in dropped:
        store.drop_collection(name)
        (ctx.workspace.generations_dir / f"{name}.json").unlink(missing_ok=True)
    return dropped


def own_generation(prefix: str, name: str) -> bool:
    """Whether `name` is a generation collection of the pipeline whose names start `prefix`
    (pipeline `docs` must never take `docs_x`'s)."""
    pattern = rf"{re.escape(prefix)}v\d{{8}}T\d{{6}}-\d{{6}}({DENSE_SUFFIX}|{BM25_SUFFIX})"
    return re.fullmatch(pattern, name) is not None

"""A published-like index version of a SciFact slice, built with the pipeline's own stages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rag_pipelines.config import load_sources_file
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.model import EmbeddingModel, ModelTokenizer
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.pipeline.build.candidate import complete_candidate
from rag_pipelines.pipeline.build.chunks import chunk
from rag_pipelines.pipeline.build.documents import ingest
from rag_pipelines.pipeline.build.embeddings import embed
from rag_pipelines.pipeline.build.indexes import (
    build_bm25_index,
    build_graph_index,
    build_vector_index,
)
from rag_pipelines.pipeline.build.snapshot import snapshot_corpus


def slice_context(root: Path, scifact: Path, ids: list[str], **sections: Any) -> PipelineContext:
    """A pipeline over the given SciFact documents with its state under `root`."""
    data: dict[str, Any] = {
        "pipeline": {"name": "slice", "data_dir": str(root / "data")},
        "embedding": {"device": "cpu", "backend": "torch"},
        "sources": [
            {"name": "scifact", "connector": {"type": "beir", "path": str(scifact), "ids": ids}}
        ],
        **sections,
    }
    path = root / "sources.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return PipelineContext(load_sources_file(path))


def build_version(
    ctx: PipelineContext, model: EmbeddingModel, tokenizer: ModelTokenizer
) -> tuple[str, VectorStore]:
    """Ingest, chunk, embed, snapshot and index; the complete version and its store."""
    ingest(ctx, "scifact")
    chunk(ctx, "scifact", tokenizer)
    embed(ctx, "scifact", model)
    version = snapshot_corpus(ctx).snapshot.version
    store = open_vector_store(ctx.config.index.qdrant, ctx.workspace)
    build_vector_index(ctx, version, store)
    build_bm25_index(ctx, version, store)
    build_graph_index(ctx, version)
    complete_candidate(ctx, version, store.kind)
    return version, store

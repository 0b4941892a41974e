"""Run a source through the real ingest → chunk → embed → vector index path, read what it holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rag_pipelines.chunking.models import Tokenizer
from rag_pipelines.config import load_sources_file
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.model import EmbeddingModel
from rag_pipelines.index.stores import collection_name, open_vector_store
from rag_pipelines.index.versions import utc_now
from rag_pipelines.ingest.ingestion import IngestReport
from rag_pipelines.pipeline.build.changes import changed_sources
from rag_pipelines.pipeline.build.chunks import chunk
from rag_pipelines.pipeline.build.documents import ingest
from rag_pipelines.pipeline.build.embeddings import embed
from rag_pipelines.pipeline.build.indexes import build_vector_index
from rag_pipelines.pipeline.build.snapshot import snapshot_chunks, snapshot_corpus
from rag_pipelines.pipeline.checks.freshness import staleness


@dataclass
class Indexed:
    """What one run did, and what the version's vector index holds per document."""

    report: IngestReport
    texts: dict[str, str]  # document id → its chunks' text, joined
    groups: dict[str, list[str]]  # document id → access groups in the payloads


def write_config(folder: Path, connector: dict[str, Any]) -> Path:
    """A sources.yaml with one source `docs` and the qdrant-client local store."""
    path = folder / "sources.yaml"
    data = {
        "pipeline": {"name": "conn", "data_dir": str(folder / "state")},
        "index": {"qdrant": {"backend": "local"}},
        "sources": [{"name": "docs", "connector": connector}],
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def changed(config_path: Path) -> list[str]:
    """Sources the change sensor would run now (their listing signature moved)."""
    ctx = PipelineContext(load_sources_file(config_path, env={}))
    return [change.source for change in changed_sources(ctx, {})]


def run_once(config_path: Path, embedder: EmbeddingModel, tokenizer: Tokenizer) -> Indexed:
    """Ingest, chunk, embed and index source `docs`; read back every point of the version."""
    ctx = PipelineContext(load_sources_file(config_path, env={}))
    report = ingest(ctx, "docs")
    chunk(ctx, "docs", tokenizer)
    embed(ctx, "docs", embedder)
    version = snapshot_corpus(ctx).snapshot.version
    versions = ctx.registry.versions()
    previous = versions[-2] if len(versions) > 1 else None
    # What publishing computes from each document's modified_at: must work for every connector.
    staleness(ctx, version, previous, utc_now())
    store = open_vector_store(ctx.config.index.qdrant, ctx.workspace)
    try:
        build_vector_index(ctx, version, store)
        name = collection_name(ctx.config.index.qdrant, "conn", version)
        ids = [c.id for c in snapshot_chunks(ctx, version)]
        payloads = store.retrieve(name, ids)
    finally:
        store.close()
    texts: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    for chunk_id in ids:
        payload = payloads[chunk_id]
        doc = str(payload["document_id"])
        texts[doc] = f"{texts.get(doc, '')} {payload['text']}".strip()
        groups[doc] = list(payload["access_groups"])
    return Indexed(report, texts, groups)

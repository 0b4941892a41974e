"""Build, check and publish versions of a small BEIR corpus with the pipeline's own stages."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from qdrant_client import QdrantClient

from rag_pipelines.asset_graph import DATA_QUALITY, RETRIEVAL_QUALITY
from rag_pipelines.config import load_sources_file
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.manifest import CheckRecord
from rag_pipelines.index.vector_store import VectorPoint
from rag_pipelines.index.versions import utc_now
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
from rag_pipelines.pipeline.checks.blocking import check_counts_agree, check_not_empty
from rag_pipelines.pipeline.publish import publish

SOURCES = ("pub", "team")
FIXED_MTIME = 1_700_000_000  # BEIR documents' modified_at is the corpus file's mtime


class CountingStore(ClientVectorStore):
    """qdrant-client local mode in memory, counting the points sent per collection."""

    def __init__(self) -> None:
        super().__init__(QdrantClient(location=":memory:"))
        self.kind = "local"
        self.sent: dict[str, int] = {}

    def upsert(self, name: str, points: Sequence[VectorPoint]) -> None:
        """Count, then upsert."""
        self.sent[name] = self.sent.get(name, 0) + len(points)
        super().upsert(name, points)


@dataclass
class Corpus:
    """Two BEIR folders (a public and a restricted source) rewritten between versions."""

    root: Path
    docs: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def write(self) -> None:
        """Write each source's corpus.jsonl with a fixed mtime."""
        for source in SOURCES:
            folder = self.root / source
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "corpus.jsonl"
            lines = [
                json.dumps({"_id": i, "title": d["title"], "text": d["text"]})
                for i, d in self.docs[source].items()
            ]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            os.utime(path, (FIXED_MTIME, FIXED_MTIME))


def load_scifact(scifact: Path, count: int) -> list[tuple[str, dict[str, str]]]:
    """The first `count` SciFact documents."""
    out = []
    with (scifact / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line, _ in zip(handle, range(count), strict=False):
            record = json.loads(line)
            out.append((record["_id"], {"title": record["title"], "text": record["text"]}))
    return out


def pipeline_context(root: Path, corpus: Corpus, **qdrant: Any) -> PipelineContext:
    """A pipeline over the corpus's two sources (`team` readable by group team only)."""
    data: dict[str, Any] = {
        "pipeline": {"name": "gen", "data_dir": str(root / "data")},
        "index": {"qdrant": {"backend": "local", **qdrant}, "retention": 2},
        "defaults": {"chunking": {"chunk_size": 96, "chunk_overlap": 0}},
        "sources": [
            {"name": "pub", "connector": {"type": "beir", "path": str(corpus.root / "pub")}},
            {
                "name": "team",
                "connector": {"type": "beir", "path": str(corpus.root / "team")},
                "access": {"groups": ["team"]},
            },
        ],
    }
    root.mkdir(parents=True, exist_ok=True)
    path = root / "sources.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return PipelineContext(load_sources_file(path, env={}))


def build_and_publish(
    ctx: PipelineContext, store: ClientVectorStore, embedder: Any, tokenizer: Any
) -> str:
    """Every build stage, the two index checks for real, then publish (GC included)."""
    for source in SOURCES:
        ingest(ctx, source)
        chunk(ctx, source, tokenizer)
        embed(ctx, source, embedder)
    version = snapshot_corpus(ctx).snapshot.version
    build_vector_index(ctx, version, store)
    build_bm25_index(ctx, version, store)
    build_graph_index(ctx, version)
    complete_candidate(ctx, version, store.kind)
    assert check_not_empty(ctx, version).passed
    assert check_counts_agree(ctx, version, store).passed
    for name in (DATA_QUALITY, RETRIEVAL_QUALITY):  # golden-set checks: not what is tested here
        ctx.registry.record_check(
            version, CheckRecord(name=name, passed=True, checked_at=utc_now())
        )
    publish(ctx, version, store)
    return version

"""A version is its corpus, model, index and retrieval settings: a retrieval change is new."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rag_pipelines.config import load_sources_file
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.stores import open_vector_store
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
from tests.conftest import FakeEmbedder


def _context(tmp_path: Path, extra: dict[str, Any]) -> PipelineContext:
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "a.md").write_text("# Aspirin\nAspirin lowers the risk of heart attacks.\n")
    (docs / "b.md").write_text("# Kinases\nKinases regulate gene expression in cells.\n")
    data = {
        "pipeline": {"name": "snap", "data_dir": str(tmp_path / "state")},
        "index": {"qdrant": {"backend": "local"}},
        "sources": [{"name": "docs", "connector": {"type": "filesystem", "root": str(docs)}}],
        **extra,
    }
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return PipelineContext(load_sources_file(path, env={}))


def _snapshot(ctx: PipelineContext, tokenizer: object) -> tuple[str, bool]:
    """Run the build to a complete version; the version and whether it was reused."""
    ingest(ctx, "docs")
    chunk(ctx, "docs", tokenizer)  # type: ignore[arg-type]
    embed(ctx, "docs", FakeEmbedder())
    report = snapshot_corpus(ctx)
    version = report.snapshot.version
    if not report.reused:
        store = open_vector_store(ctx.config.index.qdrant, ctx.workspace)
        build_vector_index(ctx, version, store)
        build_bm25_index(ctx, version, store)
        build_graph_index(ctx, version)
        complete_candidate(ctx, version, store.kind)
        store.close()
    return version, report.reused


def test_a_fusion_change_makes_a_new_version(tmp_path: Path, tokenizer: object) -> None:
    """Regression: new fusion weights reused the old version, which kept serving the old ones."""
    first, _ = _snapshot(_context(tmp_path, {}), tokenizer)
    same, reused = _snapshot(_context(tmp_path, {}), tokenizer)
    assert (same, reused) == (first, True)
    weights = {"retrieval": {"fusion": {"weights": {"dense": 2.0, "bm25": 1.0, "graph": 0.0}}}}
    changed, reused = _snapshot(_context(tmp_path, weights), tokenizer)
    assert changed != first and not reused
    tuned = {**weights, "evaluation": {"tune_fusion": True}}
    retuned, reused = _snapshot(_context(tmp_path, tuned), tokenizer)
    assert retuned not in (first, changed) and not reused

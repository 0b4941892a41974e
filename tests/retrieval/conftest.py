"""A SciFact slice built into one index version with the real MiniLM (torch backend)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.model import SentenceTransformerModel
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.open import open_version
from tests.retrieval.slice_index import build_version, slice_context
from tests.scifact import judged_slice

QUERIES, DOCS = 12, 100


@dataclass
class SliceVersion:
    """The slice's context, its version opened for queries, and its judged queries."""

    ctx: PipelineContext
    index: VersionIndex
    queries: dict[str, str]
    qrels: dict[str, set[str]]


@pytest.fixture(scope="session")
def scifact_version(
    scifact_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SliceVersion]:
    """12 judged SciFact queries over 100 documents, built as a complete version."""
    queries, qrels, ids = judged_slice(scifact_dir, QUERIES, DOCS)
    root = tmp_path_factory.mktemp("slice")
    ctx = slice_context(root, scifact_dir, ids, embedding={"device": "cpu", "backend": "torch"})
    model = SentenceTransformerModel(ctx.config.embedding)
    version, store = build_version(ctx, model, model.tokenizer)
    index = open_version(ctx, version, store)
    yield SliceVersion(ctx, index, queries, qrels)
    index.close()
    store.close()

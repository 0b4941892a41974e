"""The retrieval_quality check blocks publishing when a build is worse than the live version.

A SciFact slice is built and published with the real MiniLM; then candidates are built over
the same data dir the way the CLI does (every source, then the corpus-wide assets and their
checks): a broken chunker and a wrong model must fail the check, with the per-mode table and
the difference to the live version in its metadata, and must not be published; a harmless new
model version must pass and be published.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from assets.runs import materialize_pipeline
from rag_pipelines.chunking.chunker import Chunker
from rag_pipelines.chunking.models import Chunk
from rag_pipelines.config import load_sources_file
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.model import SentenceTransformerModel
from rag_pipelines.index.manifest import BuildManifest
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.index.versions import VersionRegistry
from rag_pipelines.ingest.models import Document
from rag_pipelines.pipeline.build.changes import model_change
from rag_pipelines.retrieval.model_cache import model_for
from rag_pipelines.retrieval.open import open_version
from rag_pipelines.workspace import Workspace
from tests.scifact import judged_slice

pytestmark = pytest.mark.slow

# Measured 2026-11-22 on this slice (15 judged train queries, 150 documents, gate 0.02): hybrid
# nDCG@10 Δ vs live −0.129 with the broken chunker, −0.182 with the scrambled model.
QUERIES = 15
DOCS = 150
MODES = ["dense", "bm25", "hybrid"]


@dataclass
class Slice:
    """The published SciFact slice and how to write configurations over its data dir."""

    tmp: Path
    scifact: Path
    ids: list[str]

    def config(self, name: str, **overrides: Any) -> SourcesFile:
        """A sources.yaml over the slice; `overrides` replace top-level sections."""
        data: dict[str, Any] = {
            "pipeline": {"name": "gate", "data_dir": str(self.tmp / "data")},
            "embedding": {"device": "cpu"},
            "evaluation": {
                "sets": [
                    {
                        "name": "scifact",
                        "queries": str(self.scifact / "queries.jsonl"),
                        "qrels": str(self.scifact / "qrels" / "train.tsv"),
                        "max_queries": QUERIES,
                    }
                ],
                "modes": MODES,
                "use_feedback": False,
                "gate": {"mode": "hybrid", "metric": "ndcg@10", "max_regression": 0.02},
            },
            "sources": [
                {
                    "name": "scifact",
                    "connector": {"type": "beir", "path": str(self.scifact), "ids": self.ids},
                }
            ],
            **overrides,
        }
        path = self.tmp / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        return load_sources_file(path)

    @property
    def registry(self) -> VersionRegistry:
        """The pipeline's versions and live pointer."""
        return VersionRegistry(Workspace(self.tmp / "data"))


@dataclass
class Build:
    """One build-and-publish attempt: its runs and its retrieval_quality verdict."""

    runs: list[dg.ExecuteInProcessResult]
    check: dg.AssetCheckEvaluation

    @property
    def published(self) -> bool:
        """Whether published_index was materialized."""
        keys = {e.asset_key for e in self.runs[-1].get_asset_materialization_events()}
        return dg.AssetKey("published_index") in keys

    def metadata(self, key: str) -> Any:
        """A value of the check's metadata."""
        return getattr(self.check.metadata[key], "value", self.check.metadata[key])


def build(config: SourcesFile) -> Build:
    """Materialize every source, then the corpus-wide assets, not raising on a failed check."""
    runs = materialize_pipeline(config, dg.DagsterInstance.ephemeral(), raise_on_error=False)
    checks = [
        e for e in runs[-1].get_asset_check_evaluations() if e.check_name == "retrieval_quality"
    ]
    assert len(checks) == 1, [e.check_name for e in runs[-1].get_asset_check_evaluations()]
    return Build(runs, checks[0])


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, scifact_dir: Path) -> Iterator[Slice]:
    """The slice built and published with the real model (its check passes: nothing is live)."""
    _, _, ids = judged_slice(scifact_dir, QUERIES, DOCS)
    built = Slice(tmp_path_factory.mktemp("gate"), scifact_dir, ids)
    first = build(built.config("base"))
    assert first.check.passed and first.published
    assert first.metadata("live_version") == "none"
    yield built


def assert_blocked(before: str, after: Build, slice_: Slice) -> None:
    """The check failed against the live version, said why, and nothing was published."""
    assert not after.check.passed
    assert after.metadata("live_version") == before
    description = after.check.description or ""
    assert "vs live" in description and "regression" in description, description
    table = str(after.metadata("table"))
    hybrid = [line for line in table.splitlines() if "| hybrid |" in line]
    assert hybrid, table
    delta = float(hybrid[0].split("|")[4])  # | set | mode | nDCG@10 | Δ live | ...
    assert delta < -0.02, table
    assert not after.published
    assert not after.runs[-1].success
    live = slice_.registry.live()
    assert live is not None and live.version == before
    candidate = slice_.registry.versions()[-1]
    assert candidate != before
    assert not slice_.registry.checks(candidate)["retrieval_quality"].passed


def live_version(slice_: Slice) -> str:
    """The published version now."""
    pointer = slice_.registry.live()
    assert pointer is not None
    return pointer.version


def test_a_broken_chunker_is_blocked(published: Slice, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunker that keeps only each document's first 32 tokens loses to the live version."""
    before = live_version(published)
    chunk = Chunker.chunk

    def first_chunk_only(self: Chunker, document: Document) -> list[Chunk]:
        return chunk(self, document)[:1]

    monkeypatch.setattr(Chunker, "chunk", first_chunk_only)
    config = published.config(
        "broken_chunker", defaults={"chunking": {"chunk_size": 32, "chunk_overlap": 0}}
    )
    assert_blocked(before, build(config), published)


def test_a_wrong_model_is_blocked(published: Slice, scrambled_model: Path) -> None:
    """A new model version that reads words wrongly (shuffled embeddings) is not published."""
    before = live_version(published)
    config = published.config(
        "wrong_model", embedding={"device": "cpu", "model": str(scrambled_model)}
    )
    assert_blocked(before, build(config), published)


def test_a_harmless_new_model_version_passes_and_is_published(
    published: Slice, retuned_model: Path
) -> None:
    """The same model with one bias nudged: new version, quality holds, it goes live."""
    before = live_version(published)
    after = build(
        published.config("retuned", embedding={"device": "cpu", "model": str(retuned_model)})
    )
    assert after.check.passed, after.check.description
    assert after.metadata("live_version") == before
    assert after.published and after.runs[-1].success
    assert live_version(published) not in (before,)
    assert published.registry.manifest(live_version(published)).model.name == "minilm-retuned"


def test_switching_to_int8_is_a_model_change_judged_by_the_gate(published: Slice) -> None:
    """onnx-int8 re-embeds into a new version gated against live; fp32 ONNX vs torch is not a
    change. Publication follows the verdict, and the service encodes queries with int8."""
    before = live_version(published)
    live = published.registry.manifest(before)
    live_model = live.model
    assert live_model.quantization is None
    model = {"device": "cpu", "model": live.model_ref}  # whichever model earlier tests published
    same = published.config("torch", embedding={**model, "backend": "torch"})
    assert model_change(PipelineContext(same)) is None
    int8 = published.config("int8", embedding={**model, "backend": "onnx-int8"})
    change = model_change(PipelineContext(int8))
    assert change is not None and change.configured.endswith("+int8")
    after = build(int8)
    candidate = published.registry.versions()[-1]
    assert candidate != before
    manifest = published.registry.manifest(candidate)
    assert manifest.model.key != live_model.key and manifest.model.quantization == "int8"
    assert after.metadata("live_version") == before
    table = str(after.metadata("table"))
    assert "| hybrid |" in table, table
    assert after.published == after.check.passed, after.check.description
    if after.published:
        assert live_version(published) == candidate
        ctx = PipelineContext(int8)
        store = open_vector_store(ctx.config.index.qdrant, ctx.workspace)
        index = open_version(ctx, candidate, store)
        try:
            response = index.search("cancer", 3, "dense")
            assert response.model_fingerprint == manifest.model.key
            assert index_model(ctx, manifest).backend == "onnx-int8"
        finally:
            index.close()
            store.close()
    else:
        assert live_version(published) == before


def index_model(ctx: PipelineContext, manifest: BuildManifest) -> SentenceTransformerModel:
    """The query encoder the service uses for a version."""
    return model_for(
        ctx.config.embedding, manifest.model_ref, manifest.model, ctx.workspace.onnx_dir
    )

"""The experiments asset on a tiny corpus: each variant becomes its own version, compared.

Plumbing, not a quality claim: five made-up products, the real MiniLM (versions are opened with
the model they were built with), a chunking, a fusion and a model variant.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from assets.definitions import build_parts
from assets.runs import materialize_pipeline, metadata_of
from rag_pipelines.beir import write_qrels, write_queries
from rag_pipelines.config import load_sources_file
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.embedding.cache import EmbeddingCache
from rag_pipelines.index.versions import VersionRegistry
from rag_pipelines.workspace import Workspace
from tests.dataops.corpus import INITIAL, write_corpus

pytestmark = pytest.mark.slow


def write_golden(tmp: Path) -> tuple[Path, Path]:
    """Each product's question, judged to be answered by its file."""
    queries, qrels = tmp / "queries.jsonl", tmp / "qrels.tsv"
    write_queries(queries, {f"q{i}": p.query for i, p in enumerate(INITIAL)})
    write_qrels(qrels, {f"q{i}": {p.path: 1} for i, p in enumerate(INITIAL)})
    return queries, qrels


def write_config(tmp: Path, variants: list[dict[str, Any]]) -> SourcesFile:
    """Two filesystem sources, a golden set over both, and the declared variants."""
    roots = write_corpus(tmp)
    queries, qrels = write_golden(tmp)
    data = {
        "pipeline": {"name": "exp", "data_dir": str(tmp / "data")},
        "embedding": {"device": "cpu"},
        "evaluation": {
            "sets": [{"name": "products", "queries": str(queries), "qrels": str(qrels)}],
            "modes": ["dense", "bm25", "hybrid"],
            "use_feedback": False,
            "experiments": variants,
        },
        "sources": [
            {"name": name, "connector": {"type": "filesystem", "root": str(root)}}
            for name, root in roots.items()
        ],
    }
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_sources_file(path)


def materialize_experiments(config: SourcesFile) -> dict[str, Any]:
    """Run only the experiments asset; its metadata."""
    parts = build_parts(config)
    result = dg.materialize(
        [*parts.assets, *parts.checks],
        selection=["experiments"],
        resources=parts.resources,
        instance=dg.DagsterInstance.ephemeral(),
    )
    return metadata_of(result, "experiments")


@dataclass
class Ran:
    """The pipeline published once, then experiments materialized once."""

    tmp: Path
    config: SourcesFile
    live: str
    meta: dict[str, Any]

    def variant_registry(self, name: str) -> VersionRegistry:
        """A variant's own versions."""
        return VersionRegistry(Workspace(self.tmp / "data" / "experiments" / name))


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory, scrambled_model: Path) -> Ran:
    """Publish the corpus, then build three variants next to it."""
    tmp = tmp_path_factory.mktemp("experiments")
    config = write_config(
        tmp,
        [
            {"name": "small_chunks", "chunking": {"chunk_size": 24, "chunk_overlap": 0}},
            {"name": "bm25_only", "fusion": {"weights": {"dense": 0.0, "graph": 0.0}}},
            {"name": "scrambled", "embedding": {"model": str(scrambled_model)}},
        ],
    )
    assert all(r.success for r in materialize_pipeline(config, dg.DagsterInstance.ephemeral()))
    live = VersionRegistry(Workspace(tmp / "data")).live()
    assert live is not None
    return Ran(tmp, config, live.version, materialize_experiments(config))


def test_every_variant_is_its_own_version_beside_the_live_one(ran: Ran) -> None:
    """Three new versions in their own folders; the main pipeline's versions are untouched."""
    versions = ran.meta["versions"]
    assert versions["live"] == ran.live
    assert set(versions) == {"live", "small_chunks", "bm25_only", "scrambled"}
    assert len(set(versions.values())) == 4
    for name in ("small_chunks", "bm25_only", "scrambled"):
        assert ran.variant_registry(name).versions() == [versions[name]]
        assert ran.variant_registry(name).live() is None  # never published
    assert VersionRegistry(Workspace(ran.tmp / "data")).versions() == [ran.live]


def test_each_variant_carries_its_override(ran: Ran) -> None:
    """Smaller chunks → more chunks; the fusion override is served; the other model is used."""
    main = VersionRegistry(Workspace(ran.tmp / "data")).manifest(ran.live)
    versions = ran.meta["versions"]
    small = ran.variant_registry("small_chunks").manifest(versions["small_chunks"])
    assert small.chunks > main.chunks
    assert small.model.key == main.model.key
    fusion = ran.variant_registry("bm25_only").manifest(versions["bm25_only"]).retrieval["fusion"]
    assert fusion["weights"] == {"dense": 0.0, "bm25": 1.0, "graph": 0.0}
    scrambled = ran.variant_registry("scrambled").manifest(versions["scrambled"])
    assert scrambled.model.name == "minilm-scrambled" and scrambled.model.key != main.model.key


def test_variants_share_the_main_embedding_cache(ran: Ran) -> None:
    """The scrambled model's vectors are in the main cache; no variant has a cache of its own."""
    key = ran.variant_registry("scrambled").manifest(ran.meta["versions"]["scrambled"]).model.key
    cache = EmbeddingCache(Workspace(ran.tmp / "data").embedding_cache_path)
    try:
        assert cache.count(key) > 0
    finally:
        cache.close()
    assert not list((ran.tmp / "data" / "experiments").glob("*/cache"))


def test_metadata_has_the_table_and_the_plot(ran: Ran) -> None:
    """A Markdown table with a row per version and mode columns, and the PNG (path and inline)."""
    markdown = ran.meta["comparison"]
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert "nDCG@10 dense" in rows[0] and "nDCG@10 hybrid" in rows[0]
    for name in ("live", "small_chunks", "bm25_only", "scrambled"):
        assert any(row.startswith(f"| {name} | products |") for row in rows), name
    assert "![ndcg@10 by variant](data:image/png;base64," in markdown
    plot = Path(ran.meta["plot"])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot.parent == ran.tmp / "data" / "experiments" / "reports"
    assert Path(ran.meta["report"]).read_text().startswith("ndcg@10 per retrieval mode")
    scores = ran.meta["scores"]
    assert set(scores["bm25_only"]["products"]) == {"dense", "bm25", "hybrid"}


def test_rerun_reuses_unchanged_variants_and_rebuilds_a_changed_one(
    ran: Ran, scrambled_model: Path
) -> None:
    """Same variants → same versions; a new fusion k → a new version of that variant only."""
    again = materialize_experiments(ran.config)
    assert again["versions"] == ran.meta["versions"]
    changed = write_config(
        ran.tmp,
        [
            {"name": "small_chunks", "chunking": {"chunk_size": 24, "chunk_overlap": 0}},
            {"name": "bm25_only", "fusion": {"k": 10, "weights": {"dense": 0.0, "graph": 0.0}}},
            {"name": "scrambled", "embedding": {"model": str(scrambled_model)}},
        ],
    )
    third = materialize_experiments(changed)["versions"]
    assert third["bm25_only"] != ran.meta["versions"]["bm25_only"]
    assert {k: v for k, v in third.items() if k != "bm25_only"} == {
        k: v for k, v in ran.meta["versions"].items() if k != "bm25_only"
    }
    registry = ran.variant_registry("bm25_only")
    assert registry.versions() == [third["bm25_only"]]  # the old one was pruned
    assert registry.manifest(third["bm25_only"]).retrieval["fusion"]["k"] == 10

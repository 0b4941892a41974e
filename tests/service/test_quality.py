"""Retrieval quality of the served engine on a judged SciFact slice (real MiniLM, Qdrant Edge)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from assets.runs import materialize_pipeline
from rag_pipelines.config import load_sources_file
from rag_pipelines.context import PipelineContext
from rag_pipelines.evaluation.golden import load_beir
from rag_pipelines.evaluation.metrics import evaluate
from rag_pipelines.evaluation.runs import run_golden
from rag_pipelines.retrieval.live import LiveIndex
from rag_pipelines.retrieval.models import Mode
from tests.scifact import judged_slice

pytestmark = pytest.mark.slow

QUERIES = 40
SLICE = 600
MODES: tuple[Mode, ...] = ("dense", "bm25", "graph", "hybrid")
# Document-level nDCG@10 measured on 2026-11-22 (40 judged train queries, 600 docs, 1476 chunks,
# all-MiniLM-L6-v2 on CPU, default fusion): dense 0.7814, bm25 0.7726, graph 0.7967,
# hybrid 0.8215. Pinned a little below.
MIN_NDCG_AT_10: dict[str, float] = {"dense": 0.75, "bm25": 0.74, "graph": 0.76, "hybrid": 0.79}
# Fusion may not cost more than this against the better single leg (measured: +0.040).
HYBRID_MARGIN = 0.01


@pytest.fixture(scope="module")
def scores(
    tmp_path_factory: pytest.TempPathFactory, scifact_dir: Path
) -> dict[str, dict[str, float]]:
    """Build the slice through the pipeline once; metrics of every mode of the live version."""
    tmp = tmp_path_factory.mktemp("quality")
    queries, _, ids = judged_slice(scifact_dir, QUERIES, SLICE)
    data = {
        "pipeline": {"name": "quality", "data_dir": str(tmp / "data")},
        "embedding": {"device": "cpu"},
        "sources": [
            {"name": "scifact", "connector": {"type": "beir", "path": str(scifact_dir), "ids": ids}}
        ],
    }
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_sources_file(path)
    assert all(r.success for r in materialize_pipeline(config, dg.DagsterInstance.ephemeral()))
    golden = load_beir(
        scifact_dir / "queries.jsonl", scifact_dir / "qrels" / "train.tsv", "scifact"
    ).subset(list(queries), "scifact-slice")
    assert len(golden.queries) == QUERIES
    live = LiveIndex(PipelineContext(config))
    try:
        with live.acquire() as index:
            assert index.manifest.documents == SLICE
            measured = {
                mode: evaluate(golden.qrels, run_golden(index, golden, mode)) for mode in MODES
            }
    finally:
        live.stop()
    for mode, metrics in measured.items():
        print(f"scifact {QUERIES}q/{SLICE}d {mode:>6}: {metrics}")
    return measured


@pytest.mark.parametrize("mode", MODES)
def test_ndcg_at_10_stays_above_the_measured_level(
    scores: dict[str, dict[str, float]], mode: str
) -> None:
    ndcg = scores[mode]["ndcg@10"]
    assert ndcg >= MIN_NDCG_AT_10[mode], f"{mode} nDCG@10 {ndcg} < {MIN_NDCG_AT_10[mode]}"


def test_hybrid_is_at_least_as_good_as_the_better_leg(
    scores: dict[str, dict[str, float]],
) -> None:
    best_leg = max(scores["dense"]["ndcg@10"], scores["bm25"]["ndcg@10"])
    hybrid = scores["hybrid"]["ndcg@10"]
    assert hybrid >= best_leg - HYBRID_MARGIN, f"hybrid {hybrid} vs best single leg {best_leg}"
    assert (
        scores["hybrid"]["recall@10"]
        >= max(scores["dense"]["recall@10"], scores["bm25"]["recall@10"]) - 0.05
    )

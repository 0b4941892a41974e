"""The issue-16 hooks in the engine on a real built version: RM3, document fusion, query weights."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from assets.runs import materialize_pipeline
from rag_pipelines.config import load_sources_file
from rag_pipelines.context import PipelineContext
from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.evaluation.query_weight_tuning import alpha_table, learn_query_weights
from rag_pipelines.index.vector_store import SparseVector
from rag_pipelines.retrieval.aggregate import fuse_by_document
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.fusion import RankTable, fuse_rankings
from rag_pipelines.retrieval.legs.base import LegQuery, registered_legs
from rag_pipelines.retrieval.live import LiveIndex
from rag_pipelines.retrieval.prf import expand, weighted_query_vector
from rag_pipelines.retrieval.query_weights import ALPHA_GRID, FEATURES, QueryWeights, ndcg_at
from tests.scifact import judged_slice

pytestmark = pytest.mark.slow

QUERY = "ALDH1 expression is associated with poorer prognosis for breast cancer primary tumors."


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, scifact_dir: Path) -> Iterator[VersionIndex]:
    """A 40-document SciFact slice built with RM3 on and document-level (rrf) fusion."""
    tmp = tmp_path_factory.mktemp("levers")
    _, _, ids = judged_slice(scifact_dir, 5, 40)
    data = {
        "pipeline": {"name": "levers", "data_dir": str(tmp / "data")},
        "embedding": {"device": "cpu"},
        "sources": [
            {"name": "scifact", "connector": {"type": "beir", "path": str(scifact_dir), "ids": ids}}
        ],
        "retrieval": {
            "bm25": {"prf": {"enabled": True, "fb_docs": 3, "fb_terms": 8}},
            "fusion": {"aggregate": "rrf", "aggregate_top": 2},
        },
    }
    (tmp / "sources.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_sources_file(tmp / "sources.yaml")
    assert all(r.success for r in materialize_pipeline(config, dg.DagsterInstance.ephemeral()))
    live = LiveIndex(PipelineContext(config))
    with live.acquire() as opened:
        yield opened


def test_bm25_leg_requeries_with_the_rm3_expansion(index: VersionIndex) -> None:
    """With prf on, the BM25 leg is the second pass: the RM3 query of the first pass's top hits."""
    assert index.prf.enabled and index.prf.fb_docs == 3
    query = LegQuery(QUERY, 20, None, None, index.encode)
    bm25 = registered_legs()["bm25"]  # not imported directly: that would reorder the registry
    expanded = bm25.run(index, query, {})
    settings = index.prf
    index.prf = settings.model_copy(update={"enabled": False})
    try:
        first = bm25.run(index, query, {})
    finally:
        index.prf = settings
    scores = first.score_of()
    feedback = [(index.tokenize(index.passage(c) or ""), scores[c]) for c in first.ids[:3]]
    weights = expand(settings, index.tokenize(QUERY), feedback)
    assert len(weights) > len(set(index.tokenize(QUERY)))  # terms were added
    vector = SparseVector(*weighted_query_vector(index.bm25, weights))
    manual = index.store.search_sparse(index.manifest.bm25_collection, vector, 20, None)
    assert expanded.ids == [h.chunk_id for h in manual]
    assert expanded.ids != first.ids


def test_hybrid_ranks_documents_then_groups_their_chunks(index: VersionIndex) -> None:
    """aggregate=rrf: hits come grouped by document, in the document-level fusion's order."""
    assert index.levers_on()
    response = index.search(QUERY, 30, "hybrid")
    docs = [h.provenance.document_id for h in response.hits]
    firsts = list(dict.fromkeys(docs))
    assert docs == [d for d in firsts for _ in range(docs.count(d))]  # contiguous groups
    legs = index.run_legs(QUERY, "hybrid", 100)
    doc_of = index.lookup.chunk_documents()
    weights = {str(k): v for k, v in index.fusion.weights.items()}
    chunks = fuse_rankings({n: leg.ids for n, leg in legs.items()}, weights, index.fusion.k)
    pairs = {n: (leg.ids, leg.score_of()) for n, leg in legs.items()}
    expected = fuse_by_document(pairs, doc_of, chunks, weights, index.fusion.k, "rrf", 2)
    assert [h.chunk_id for h in response.hits] == [f.id for f in expected[:30]]


def test_default_fusion_keeps_the_rank_table_path(index: VersionIndex) -> None:
    """method rrf, aggregate chunk and no learned weights: hybrid is chunk-level RankTable RRF."""
    configured = index.fusion
    index.fusion = configured.model_copy(update={"aggregate": "chunk"})
    try:
        assert not index.levers_on()
        hits = [h.chunk_id for h in index.search(QUERY, 10, "hybrid").hits]
    finally:
        index.fusion = configured
    legs = index.run_legs(QUERY, "hybrid", 100)
    table = RankTable({n: leg.ids for n, leg in legs.items()})
    expected = table.fused(configured.weights, configured.k, 10)
    assert hits == [f.id for f in expected]


def test_learned_query_weights_steer_the_fusion(index: VersionIndex) -> None:
    """A model that always gives dense the whole budget makes hybrid order by dense and graph."""
    always_dense = QueryWeights([0.0] * 7, [1.0] * 7, [30.0] + [0.0] * 7, budget=2.0)
    index.query_weights = always_dense
    try:
        steered = index.search(QUERY, 10, "hybrid")
    finally:
        index.query_weights = None
    configured = index.fusion
    index.fusion = configured.model_copy(
        update={"weights": {"dense": 2.0, "bm25": 0.0, "graph": configured.weights["graph"]}}
    )
    try:
        by_hand = index.search(QUERY, 10, "hybrid")
    finally:
        index.fusion = configured
    assert [h.chunk_id for h in steered.hits] == [h.chunk_id for h in by_hand.hits]


def test_alpha_table_at_the_configured_split_is_the_served_ndcg(
    index: VersionIndex, scifact_dir: Path
) -> None:
    """The tuning table's α 0.5 column (dense 1, bm25 1) equals nDCG@10 of the served hybrid."""
    queries, qrels, _ = judged_slice(scifact_dir, 5, 40)
    golden = GoldenSet("slice", queries, {q: dict.fromkeys(d, 1) for q, d in qrels.items()})
    x, table, budget = alpha_table(index, golden, "scifact")
    assert x.shape == (5, len(FEATURES)) and table.shape == (5, len(ALPHA_GRID))
    assert budget == 2.0
    for row, (query_id, text) in zip(table, queries.items(), strict=True):
        hits = index.search(text, 300, "hybrid").hits
        docs = list(dict.fromkeys(h.provenance.document_id for h in hits))
        assert row[ALPHA_GRID.index(0.5)] == pytest.approx(ndcg_at(docs, golden.qrels[query_id]))
    record = learn_query_weights(index, golden, "scifact", folds=2)
    assert record.tune_queries == 5
    assert record.enabled == (
        record.scores["tune_ndcg@10_cv"] > record.scores["tune_ndcg@10_constant"] + 0.001
    )

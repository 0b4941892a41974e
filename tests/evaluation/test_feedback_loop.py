"""Feedback round trip: POST /v1/feedback on the real service → store → feedback asset →
golden set → the next build's retrieval_quality check evaluates those queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dagster as dg
import httpx
import pytest

from assets.runs import materialize_pipeline, metadata_of
from rag_pipelines.context import PipelineContext
from rag_pipelines.evaluation.metrics import evaluate
from rag_pipelines.evaluation.quality import golden_sets
from rag_pipelines.service.app import create_app
from tests.dataops.corpus import KRILL, VELVET, ZEPHYR, write_config, write_corpus, write_product
from tests.service.server import serving

pytestmark = pytest.mark.slow


@dataclass
class Loop:
    """What the service answered, and the next build's runs."""

    ctx: PipelineContext
    useful: dict[str, Any]
    not_useful: dict[str, Any]
    live_before: str
    next_build: list[dg.ExecuteInProcessResult]

    def check(self) -> dg.AssetCheckEvaluation:
        """The next build's retrieval_quality verdict."""
        found = [
            e
            for e in self.next_build[-1].get_asset_check_evaluations()
            if e.check_name == "retrieval_quality"
        ]
        assert len(found) == 1
        return found[0]


def hit_of(http: httpx.Client, query: str, document_id: str) -> dict[str, Any]:
    """The first hit of `document_id` among the query's results."""
    response = http.post("/v1/search", json={"query": query, "top_k": 10})
    assert response.status_code == 200, response.text
    hits = [h for h in response.json()["hits"] if h["provenance"]["document_id"] == document_id]
    assert hits, f"{document_id} not among the hits for {query!r}"
    return hits[0]


def judge(http: httpx.Client, query: str, chunk_id: str, useful: bool) -> dict[str, Any]:
    """POST /v1/feedback; the stored record."""
    body = {"query": query, "chunk_id": chunk_id, "useful": useful, "note": "from a test"}
    response = http.post("/v1/feedback", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Loop:
    """Publish, judge two hits through the service, add a document, build again."""
    tmp = tmp_path_factory.mktemp("feedback")
    roots = write_corpus(tmp)
    config = write_config(tmp, roots, name="fb")
    assert all(r.success for r in materialize_pipeline(config, dg.DagsterInstance.ephemeral()))
    ctx = PipelineContext(config)
    live = ctx.registry.live()
    assert live is not None
    with (
        serving(create_app(ctx)) as url,
        httpx.Client(base_url=url, timeout=60.0) as http,
    ):
        good = hit_of(http, ZEPHYR.query, ZEPHYR.path)
        bad = hit_of(http, ZEPHYR.query, KRILL.path)
        useful = judge(http, ZEPHYR.query, good["chunk_id"], True)
        not_useful = judge(http, ZEPHYR.query, bad["chunk_id"], False)
    write_product(roots, VELVET)  # the corpus changes: the next build is a new version
    runs = materialize_pipeline(config, dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return Loop(ctx, useful, not_useful, live.version, runs)


def test_feedback_is_stored_with_the_hits_document_and_version(loop: Loop) -> None:
    """The service resolves the chunk to its document and the version that served it."""
    assert loop.useful["document_id"] == ZEPHYR.path and loop.useful["useful"] is True
    assert loop.not_useful["document_id"] == KRILL.path and loop.not_useful["useful"] is False
    assert loop.useful["index_version"] == loop.live_before
    assert loop.ctx.workspace.feedback_db.is_file()


def test_feedback_asset_counts_the_judgements(loop: Loop) -> None:
    """Two judgements, one useful: one golden query with one relevant document."""
    meta = metadata_of(loop.next_build[-1], "feedback")
    assert (meta["judgements"], meta["useful"], meta["not_useful"]) == (2, 1, 1)
    assert (meta["golden_queries"], meta["golden_relevant_pairs"]) == (1, 1)
    recent = meta["recent"]
    assert isinstance(recent, dg.TableMetadataValue)
    assert any(r.data["query"].startswith(ZEPHYR.query[:40]) for r in recent.records)
    assert isinstance(meta["latest_judgement_at"], float)


def test_the_judged_document_is_relevant_in_the_next_evaluation_set(loop: Loop) -> None:
    """The useful hit's document is the query's one relevant document; the other is not."""
    sets = golden_sets([], "all", loop.ctx.workspace.feedback_set_dir)
    golden, source = sets["feedback"]
    assert source is None
    assert list(golden.queries.values()) == [ZEPHYR.query]
    [(query_id, relevant)] = golden.qrels.items()
    assert relevant == {ZEPHYR.path: 1}
    assert evaluate(golden.qrels, {query_id: {ZEPHYR.path: 1.0}})["ndcg@10"] == 1.0
    assert evaluate(golden.qrels, {query_id: {KRILL.path: 1.0}})["ndcg@10"] == 0.0


def test_the_next_builds_quality_check_evaluates_the_feedback_queries(loop: Loop) -> None:
    """A new version, checked on the feedback set against the version that got the feedback."""
    check = loop.check()
    meta = {k: getattr(v, "value", v) for k, v in check.metadata.items()}
    assert meta["queries"] == {"feedback": 1}
    assert meta["live_version"] == loop.live_before
    rows = [line for line in str(meta["table"]).splitlines() if line.startswith("| feedback |")]
    assert {row.split("|")[2].strip() for row in rows} == {"dense", "bm25", "graph", "hybrid"}
    hybrid = next(row for row in rows if row.split("|")[2].strip() == "hybrid")
    assert float(hybrid.split("|")[3]) > 0.0  # the judged document is retrieved and counts
    newest = loop.ctx.registry.versions()[-1]
    assert newest != loop.live_before
    assert (loop.ctx.registry.build_path(newest) / "quality.json").is_file()
    assert check.passed == loop.next_build[-1].success

"""Fast evaluation: every leg once per query, reused by every mode and by fusion tuning."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_pipelines.config.legs import mode_names
from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.evaluation.leg_runs import run_legs
from rag_pipelines.evaluation.quality import evaluate_version
from rag_pipelines.evaluation.runs import run_golden
from rag_pipelines.evaluation.tuning import score_setting, tune
from rag_pipelines.retrieval.fusion import fuse_rankings
from tests.retrieval.conftest import SliceVersion


@pytest.fixture(scope="module")
def golden(scifact_version: SliceVersion) -> GoldenSet:
    """The slice's judged queries as a golden set."""
    qrels = {q: dict.fromkeys(docs, 1) for q, docs in scifact_version.qrels.items()}
    return GoldenSet("slice", scifact_version.queries, qrels)


def test_every_mode_from_shared_legs_equals_its_own_search(
    scifact_version: SliceVersion, golden: GoldenSet
) -> None:
    """A mode's document run from the shared legs is the run its own searches give."""
    runs = run_legs(scifact_version.index, golden, "scifact")
    for mode in mode_names():
        expected = run_golden(scifact_version.index, golden, mode, False, 100, ("scifact",))
        got = runs.document_run(mode)
        assert {q: list(d) for q, d in got.items()} == {q: list(d) for q, d in expected.items()}


def test_evaluation_runs_each_leg_once_per_query_and_encodes_in_batches(
    scifact_version: SliceVersion,
    golden: GoldenSet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four modes cost one leg run per query and one batch encode, not a search per mode."""
    index = scifact_version.index
    calls = {"legs": 0, "batches": 0}
    run_legs_before, encode_many = index.run_legs, index.encode_many

    def counted_legs(*args: object, **kwargs: object) -> object:
        calls["legs"] += 1
        return run_legs_before(*args, **kwargs)  # type: ignore[arg-type]

    def counted_batch(texts: list[str]) -> object:
        calls["batches"] += 1
        return encode_many(texts)

    monkeypatch.setattr(index, "run_legs", counted_legs)
    monkeypatch.setattr(index, "encode_many", counted_batch)
    scores = evaluate_version(index, tmp_path, {"slice": (golden, None)}, list(mode_names()))
    assert calls == {"legs": len(golden.queries), "batches": 1}
    assert set(scores["slice"]) == set(mode_names())
    assert scores["slice"]["hybrid"]["ndcg@10"] > 0.5


def test_tuning_on_arrays_scores_as_dict_fusion(
    scifact_version: SliceVersion, golden: GoldenSet
) -> None:
    """The array fusion used by tuning scores every setting as fuse_rankings does."""
    runs = run_legs(scifact_version.index, golden, None)
    rankings, docs = runs.rankings(), runs.documents
    from rag_pipelines.evaluation.metrics import evaluate

    for k, weights in [(60, {"dense": 1.0, "bm25": 1.0, "graph": 0.5}), (10, {"dense": 2.0})]:
        run = {}
        for query_id, legs in rankings.items():
            seen: dict[str, float] = {}
            for item in fuse_rankings(legs, weights, k, 300):
                doc = docs.get(item.id)
                if doc is not None and doc not in seen:
                    seen[doc] = float(300 - len(seen))
            run[query_id] = dict(list(seen.items())[:100])
        oracle = evaluate(golden.qrels, run, ("ndcg@10",))["ndcg@10"]
        assert score_setting(rankings, docs, golden, k, weights) == oracle
    best = tune(rankings, docs, golden)
    assert best.score >= score_setting(
        rankings, docs, golden, 60, {"dense": 1.0, "bm25": 1.0, "graph": 0.5}
    )


def test_minmax_tuning_scores_as_the_engine_serves_minmax(
    scifact_version: SliceVersion, golden: GoldenSet
) -> None:
    """Tuning's min-max arrays give the nDCG@10 the engine's own minmax searches give."""
    from rag_pipelines.evaluation.metrics import evaluate
    from rag_pipelines.evaluation.tuning import leg_runs

    index = scifact_version.index
    rankings, scored, docs = leg_runs(index, golden, "scifact")
    before = index.fusion
    weights = {"dense": 1.5, "bm25": 1.0, "graph": 0.0}
    try:
        index.fusion = before.model_copy(update={"method": "minmax", "weights": weights})
        served = run_golden(index, golden, "hybrid", False, 100, ("scifact",))
    finally:
        index.fusion = before
    oracle = evaluate(golden.qrels, served, ("ndcg@10",))["ndcg@10"]
    got = score_setting(rankings, docs, golden, 60, weights, "ndcg@10", "minmax", scored)
    assert got == pytest.approx(oracle, abs=1e-9)
    best = tune(rankings, docs, golden, "ndcg@10", ("rrf", "minmax"), scored)
    assert best.score >= got and best.method in ("rrf", "minmax")
    only_minmax = tune(rankings, docs, golden, "ndcg@10", ("minmax",), scored, default_k=77)
    assert only_minmax.method == "minmax" and only_minmax.k == 77

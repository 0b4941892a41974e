"""Evaluation: ranx metrics against hand-computed values, golden-set loading and splitting."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rag_pipelines.evaluation.golden import GoldenSet, load_beir
from rag_pipelines.evaluation.metrics import evaluate
from tests.scifact import load_qrels

LOG3 = math.log2(3)
QRELS = {"q1": {"d1": 1, "d3": 1}, "q2": {"d5": 1}, "q3": {"d9": 1}, "q4": {}}
# q1: hits at ranks 1 and 3 of 2 relevant; q2: its one hit at rank 2; q3: nothing found;
# q4 has no judgements and does not count.
RUN = {"q1": {"d1": 3.0, "d2": 2.0, "d3": 1.0}, "q2": {"d4": 2.0, "d5": 1.0}, "q3": {}}
NDCG_Q1 = (1 + 1 / 2) / (1 + 1 / LOG3)
NDCG_Q2 = 1 / LOG3


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (
            RUN,
            {
                "ndcg@10": (NDCG_Q1 + NDCG_Q2 + 0) / 3,
                "recall@1": (1 / 2 + 0 + 0) / 3,
                "recall@10": (1 + 1 + 0) / 3,
                "mrr@10": (1 + 1 / 2 + 0) / 3,
            },
        ),
        (  # a query missing from the run counts as one with no hits
            {"q1": RUN["q1"], "q2": RUN["q2"]},
            {"ndcg@10": (NDCG_Q1 + NDCG_Q2) / 3, "mrr@10": (1 + 1 / 2) / 3},
        ),
        (  # unjudged queries in the run are ignored
            {**RUN, "q4": {"d1": 1.0}, "q9": {"d9": 1.0}},
            {"ndcg@10": (NDCG_Q1 + NDCG_Q2) / 3, "recall@10": 2 / 3},
        ),
        (  # the only hit at rank 11: outside every @10 cutoff, inside @100
            {"q3": {**{f"x{i}": 100.0 - i for i in range(10)}, "d9": 1.0}},
            {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 1 / 3, "mrr@10": 0.0},
        ),
        (  # q1: d1 at rank 1, d3 at rank 101 — half of q1's relevant found at @10 and at @100
            {"q1": {"d1": 200.0, **{f"x{i}": 150.0 - i for i in range(99)}, "d3": 1.0}},
            {
                "ndcg@10": 1 / (1 + 1 / LOG3) / 3,
                "recall@10": (1 / 2) / 3,
                "recall@100": (1 / 2) / 3,
                "mrr@10": 1 / 3,
            },
        ),
    ],
)
def test_metrics_by_hand(run: dict[str, dict[str, float]], expected: dict[str, float]) -> None:
    """nDCG@10, recall@k and MRR@10 are means over every judged query, misses scoring 0."""
    scores = evaluate(QRELS, run, tuple(expected))
    assert scores == pytest.approx(expected, abs=1e-4)


def test_graded_relevance_uses_linear_gain() -> None:
    """Grades count as gains: ranking the grade-1 document above the grade-2 one costs nDCG."""
    scores = evaluate({"q": {"a": 1, "b": 2}}, {"q": {"a": 2.0, "b": 1.0}}, ("ndcg@10", "mrr@10"))
    assert scores["ndcg@10"] == pytest.approx((1 + 2 / LOG3) / (2 + 1 / LOG3), abs=1e-4)
    assert scores["mrr@10"] == 1.0


def test_single_metric() -> None:
    """Asking for one metric returns a one-entry mapping."""
    assert evaluate({"q": {"a": 1}}, {"q": {"b": 2.0, "a": 1.0}}, ("mrr@10",)) == {"mrr@10": 0.5}


def golden(size: int) -> GoldenSet:
    """A synthetic golden set of `size` queries."""
    ids = [f"q{i}" for i in range(size)]
    return GoldenSet("g", {q: f"text {q}" for q in ids}, {q: {f"d{q}": 1} for q in ids})


def test_split_is_deterministic_disjoint_and_complete() -> None:
    """Same split every time; tune and holdout partition the queries; names say which is which."""
    tune, holdout = golden(400).split(0.25)
    again_tune, again_holdout = golden(400).split(0.25)
    assert (tune, holdout) == (again_tune, again_holdout)
    assert not set(tune.queries) & set(holdout.queries)
    assert set(tune.queries) | set(holdout.queries) == set(golden(400).queries)
    assert set(tune.qrels) == set(tune.queries) and set(holdout.qrels) == set(holdout.queries)
    assert (tune.name, holdout.name) == ("g:tune", "g:holdout")
    assert 60 <= len(holdout.queries) <= 140  # ~100 expected of 400


def test_split_of_a_query_does_not_depend_on_the_others() -> None:
    """A query lands on the same side whether the set has 50 or 400 queries."""
    _, small = golden(50).split(0.3)
    _, large = golden(400).split(0.3)
    assert set(small.queries) == {q for q in large.queries if int(q[1:]) < 50}


@pytest.mark.parametrize(("fraction", "holdout"), [(0.0, 0), (1.0, 100)])
def test_split_extremes(fraction: float, holdout: int) -> None:
    """Fraction 0 holds nothing back; fraction 1 holds back everything."""
    assert len(golden(100).split(fraction)[1].queries) == holdout


def test_split_seed_changes_the_split() -> None:
    """Another seed gives another (equally deterministic) split."""
    assert golden(200).split(0.3, seed=1)[1] != golden(200).split(0.3, seed=2)[1]


def write_beir(tmp_path: Path, qrels_lines: list[str]) -> tuple[Path, Path]:
    """A queries.jsonl (q1..q3, and a blank line) and a qrels tsv."""
    queries = tmp_path / "queries.jsonl"
    rows = [{"_id": q, "text": f"claim {q}"} for q in ("q1", "q2", "q3")]
    queries.write_text("\n".join(map(json.dumps, rows)) + "\n\n", encoding="utf-8")
    qrels = tmp_path / "test.tsv"
    qrels.write_text("\n".join(qrels_lines) + "\n", encoding="utf-8")
    return queries, qrels


@pytest.mark.parametrize(
    "header", [["query-id\tcorpus-id\tscore"], []], ids=["with-header", "no-header"]
)
def test_load_beir_skips_header_and_zero_scores(tmp_path: Path, header: list[str]) -> None:
    """A header line is skipped, zero scores are not judgements, unjudged queries are dropped."""
    queries, qrels = write_beir(
        tmp_path, [*header, "q1\td1\t1", "q1\td2\t0", "q2\td3\t2", "q3\td4\t0", "q9\td5\t1"]
    )
    loaded = load_beir(queries, qrels, name="tiny")
    assert loaded.name == "tiny"
    assert loaded.queries == {"q1": "claim q1", "q2": "claim q2"}
    assert loaded.qrels == {"q1": {"d1": 1}, "q2": {"d3": 2}}


def test_load_beir_reads_scifact(scifact_dir: Path) -> None:
    """The real SciFact files: every judged query, with the judgements the test helper reads."""
    loaded = load_beir(scifact_dir / "queries.jsonl", scifact_dir / "qrels" / "train.tsv")
    expected = load_qrels(scifact_dir)
    assert {q: set(d) for q, d in loaded.qrels.items()} == expected
    assert set(loaded.queries) == set(expected)
    assert len(loaded.queries) > 800


def test_metrics_agree_with_ranx() -> None:
    """Oracle: the four metrics match ranx's on random graded judgements, ties and misses."""
    import random

    from ranx import Qrels, Run
    from ranx import evaluate as ranx_evaluate

    rng = random.Random(7)
    qrels = {
        f"q{i}": {f"d{j}": rng.choice([1, 1, 2, 3]) for j in rng.sample(range(60), 4)}
        for i in range(40)
    }
    run = {
        q: {f"d{j}": float(rng.randint(0, 400)) for j in rng.sample(range(60), 50)}
        for q in list(qrels)[:-3]  # three judged queries without a ranking
    }
    complete = {q: run.get(q) or {"__none__": 0.0} for q in qrels}
    ours = evaluate(qrels, run, ("ndcg@10", "recall@10", "recall@100", "mrr@10", "recall@3"))
    theirs = ranx_evaluate(Qrels(qrels), Run(complete), list(ours), make_comparable=True)
    # Each side rounds its mean to 4 decimals: a value on the boundary may differ by 1e-4.
    assert ours == pytest.approx({n: float(v) for n, v in theirs.items()}, abs=1.5e-4)


def test_first_evaluation_in_a_new_process_is_fast() -> None:
    """Regression: the first `eval` spent minutes in numba compiling ranx's typed containers
    (every new process, 20-150 s here) before the first score."""
    import subprocess
    import sys
    import time

    code = (
        "from rag_pipelines.evaluation.metrics import evaluate;"
        "print(evaluate({'q': {'d': 1}}, {'q': {'d': 1.0, 'e': 0.5}}))"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "", "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 10, "numba compiled on first use again"

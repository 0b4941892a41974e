"""CrossEncoderReranker's ordering and latency budget, with a fake model and a fake clock."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import SimpleNamespace

import pytest

from rag_pipelines.errors import ModelLoadError
from rag_pipelines.retrieval import rerank as rerank_module
from rag_pipelines.retrieval.rerank import CrossEncoderReranker


class FakeClock:
    """perf_counter stand-in that only moves when the fake model works."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        """Seconds on the fake clock."""
        return self.now


class FakeCrossEncoder:
    """Scores a passage by a lookup table; each predict call costs `seconds` on the clock."""

    def __init__(self, scores: dict[str, float], clock: FakeClock, seconds: float) -> None:
        self.scores = scores
        self.clock = clock
        self.seconds = seconds
        self.batches: list[int] = []

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int, show_progress_bar: bool
    ) -> list[float]:
        """One score per (query, passage) pair."""
        assert not show_progress_bar and len(pairs) <= batch_size
        self.batches.append(len(pairs))
        self.clock.now += self.seconds
        return [self.scores[p] for _, p in pairs]


def make_reranker(
    monkeypatch: pytest.MonkeyPatch, scores: dict[str, float], seconds: float, batch_size: int
) -> tuple[CrossEncoderReranker, FakeCrossEncoder]:
    """A reranker built without loading a model, on a fake clock."""
    clock = FakeClock()
    monkeypatch.setattr(rerank_module, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    model = FakeCrossEncoder(scores, clock, seconds)
    reranker = object.__new__(CrossEncoderReranker)
    reranker.model = model
    reranker.model_path = reranker.name = "fake"
    reranker.batch_size = batch_size
    reranker._lock = threading.Lock()
    return reranker, model


PASSAGES = ["p0", "p1", "p2", "p3", "p4", "p5", "p6"]
SCORES = {"p0": 0.1, "p1": 0.9, "p2": 0.5, "p3": 0.7, "p4": 0.95, "p5": 0.2, "p6": 0.8}


@pytest.mark.parametrize(
    ("budget_ms", "order", "scored", "exhausted", "batches"),
    [
        (10_000, [4, 1, 6, 3, 2, 5, 0], 7, False, [2, 2, 2, 1]),
        (200, [4, 1, 6, 3, 2, 5, 0], 7, False, [2, 2, 2, 1]),  # 4th batch starts at 180 ms
        (150, [4, 1, 3, 2, 5, 0, 6], 6, True, [2, 2, 2]),  # 3 batches, then over budget
        (100, [1, 3, 2, 0, 4, 5, 6], 4, True, [2, 2]),  # scored best first, the rest as given
        (50, [1, 0, 2, 3, 4, 5, 6], 2, True, [2]),
    ],
)
def test_budget_table(
    monkeypatch: pytest.MonkeyPatch,
    budget_ms: int,
    order: list[int],
    scored: int,
    exhausted: bool,
    batches: list[int],
) -> None:
    """Batches of 2 at 60 ms each: a batch starts only while within budget; unscored keep order."""
    reranker, model = make_reranker(monkeypatch, SCORES, seconds=0.06, batch_size=2)
    result = reranker.rerank("query", PASSAGES, budget_ms)
    assert result.order == order
    assert result.scored == scored == len(result.scores)
    assert result.budget_exhausted is exhausted
    assert model.batches == batches
    assert result.scores == {i: SCORES[PASSAGES[i]] for i in range(scored)}


def test_ties_keep_the_original_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Equal scores keep the candidates' fused order (the sort is stable)."""
    scores = {"a": 0.5, "b": 0.9, "c": 0.5, "d": 0.5}
    reranker, _ = make_reranker(monkeypatch, scores, seconds=0.0, batch_size=3)
    assert reranker.rerank("q", ["a", "b", "c", "d"], 1000).order == [1, 0, 2, 3]


def test_no_passages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to rerank: an empty order, nothing scored, budget untouched."""
    reranker, model = make_reranker(monkeypatch, {}, seconds=1.0, batch_size=4)
    result = reranker.rerank("q", [], 10)
    assert (result.order, result.scores, result.scored, result.budget_exhausted) == (
        [],
        {},
        0,
        False,
    )
    assert model.batches == []


def test_unloadable_model_is_a_typed_error(tmp_path: object) -> None:
    """A model folder that cannot be loaded raises ModelLoadError naming it."""
    with pytest.raises(ModelLoadError, match="could not load reranker"):
        CrossEncoderReranker(str(tmp_path))


@pytest.mark.parametrize(
    ("blend", "expected"),
    [
        (1.0, ["d", "c", "b", "a"]),  # the reranker's order alone
        (0.0, ["a", "b", "c", "d"]),  # the first stage untouched
        # equal say: a (first 1, rerank 4) and d (first 4, rerank 1) tie on score, as do b and c;
        # ties break by best single rank, then by first-stage position
        (0.5, ["a", "d", "b", "c"]),
        # the reranker's weight leads, so on a full reversal its order wins throughout
        (0.8, ["d", "c", "b", "a"]),
    ],
)
def test_blend_orders_weights_first_stage_against_reranker(
    blend: float, expected: list[str]
) -> None:
    head = ["a", "b", "c", "d"]
    assert rerank_module.blend_orders(head, [3, 2, 1, 0], blend) == expected


def test_blend_keeps_an_item_both_orders_agree_on_at_the_top() -> None:
    head = ["a", "b", "c", "d", "e"]
    assert rerank_module.blend_orders(head, [0, 4, 3, 2, 1], 0.5)[0] == "a"

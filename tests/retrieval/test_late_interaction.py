"""The late-interaction reranker: MaxSim, its token vectors (real MiniLM) and its budget."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace

import numpy as np
import pytest

from rag_pipelines.embedding.resolve import bundled_model_path
from rag_pipelines.retrieval import rerank
from rag_pipelines.retrieval.rerankers import late_interaction
from rag_pipelines.retrieval.rerankers.late_interaction import LateInteractionReranker, maxsim


def _unit(rows: list[list[float]]) -> np.ndarray:
    m = np.asarray(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("query", "passage", "expected"),
    [
        ([[1, 0]], [[1, 0]], 1.0),  # one token, identical
        ([[1, 0], [0, 1]], [[1, 0]], 1.0),  # second query token orthogonal to all: adds 0
        ([[1, 0], [0, 1]], [[1, 0], [0, 1]], 2.0),  # each query token finds its own match
        ([[1, 0], [0, 1]], [[1, 1]], 2 * 0.5**0.5),  # both match one token, each by cos 45°
        ([[1, 0]], [[-1, 0], [0, 1]], 0.0),  # the best is the orthogonal one, not the opposite
        ([[1, 0]], [[-1, 0]], -1.0),  # max over one token may be negative
    ],
)
def test_maxsim_sums_each_query_tokens_best_cosine(
    query: list[list[float]], passage: list[list[float]], expected: float
) -> None:
    assert maxsim(_unit(query), _unit(passage)) == pytest.approx(expected, abs=1e-6)


def test_maxsim_is_zero_when_a_side_has_no_token() -> None:
    empty = np.zeros((0, 2), dtype=np.float32)
    assert maxsim(empty, _unit([[1, 0]])) == 0.0 and maxsim(_unit([[1, 0]]), empty) == 0.0


@pytest.fixture(scope="module")
def reranker() -> LateInteractionReranker:
    """The late-interaction reranker over the bundled MiniLM (torch, CPU)."""
    return LateInteractionReranker(str(bundled_model_path()), batch_size=2)


def test_token_vectors_leave_out_special_tokens_and_padding(
    reranker: LateInteractionReranker,
) -> None:
    short, long = "aspirin", "a much longer passage that forces padding onto the short one"
    alone = reranker.encode([short])[0]
    padded, longer = reranker.encode([short, long])
    assert len(alone) == len(reranker.tokenizer.tokenize(short))  # no [CLS] / [SEP]
    assert len(longer) == len(reranker.tokenizer.tokenize(long))
    np.testing.assert_allclose(padded, alone, atol=1e-5)  # padding is masked and dropped
    np.testing.assert_allclose(np.linalg.norm(longer, axis=1), 1.0, atol=1e-5)


def test_a_passage_with_the_querys_words_ranks_above_an_unrelated_one(
    reranker: LateInteractionReranker,
) -> None:
    passages = [
        "The stock market closed higher on Friday after strong earnings reports.",
        "Aspirin lowers the risk of a heart attack in adults with cardiovascular disease.",
        "A recipe for sourdough bread with a long cold fermentation.",
    ]
    result = reranker.rerank("does aspirin prevent heart attacks", passages, budget_ms=60_000)
    assert result.order[0] == 1 and result.scored == 3 and not result.budget_exhausted
    assert result.scores[1] > max(result.scores[0], result.scores[2])


def test_unscored_passages_keep_their_order_when_the_budget_runs_out(
    reranker: LateInteractionReranker, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = iter(range(100))  # each look at the clock costs one second
    clock = SimpleNamespace(perf_counter=lambda: next(ticks))
    monkeypatch.setattr(late_interaction, "time", clock)  # the deadline
    monkeypatch.setattr(rerank, "time", clock)  # the batches' checks against it
    passages = ["unrelated text", "aspirin heart attack", "c", "d", "e", "f"]
    result = reranker.rerank("aspirin heart attack", passages, budget_ms=1500)
    assert result.scored == 2 and result.budget_exhausted  # one batch of two, then over budget
    assert result.order == [1, 0, 2, 3, 4, 5]


def test_a_cache_serves_repeated_passages_without_encoding_them_again(
    reranker: LateInteractionReranker, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = LateInteractionReranker.__new__(LateInteractionReranker)
    cached.__dict__.update(reranker.__dict__, cache={})
    first = cached.rerank("aspirin", ["aspirin trial", "bread"], budget_ms=60_000)
    monkeypatch.setattr(cached, "encode", _encode_only_queries(cached.encode))
    again = cached.rerank("aspirin", ["aspirin trial", "bread"], budget_ms=60_000)
    assert again.order == first.order
    assert again.scores == pytest.approx(first.scores, abs=1e-2)  # float16 in the cache


Encode = Callable[[Sequence[str]], list[np.ndarray]]


def _encode_only_queries(encode: Encode) -> Encode:
    def guarded(texts: Sequence[str]) -> list[np.ndarray]:
        assert list(texts) in (["aspirin"], []), f"passages re-encoded: {texts}"
        return encode(texts)

    return guarded

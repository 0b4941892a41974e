"""Cross-fitting folds: deterministic, disjoint, covering the tuning queries only."""

from __future__ import annotations

import pytest

from rag_pipelines.evaluation.crossfit import Fold, fold_of, out_of_fold, split_folds
from rag_pipelines.evaluation.golden import GoldenSet


def golden(n: int = 400) -> GoldenSet:
    """A synthetic judged set with SciFact-like numeric ids."""
    ids = [str(i) for i in range(1, n + 1)]
    return GoldenSet("g", {q: f"claim {q}" for q in ids}, {q: {f"d{q}": 1} for q in ids})


def test_folds_split_the_tuning_queries_only() -> None:
    """Two folds of the tuning part: disjoint, together all of it, no held-back id, stable."""
    tune, held = golden().split(0.3, 13)
    folds = split_folds(tune.queries)
    assert folds == split_folds(tune.queries)
    assert set(folds[0]).isdisjoint(folds[1])
    assert sorted(folds[0] + folds[1]) == sorted(tune.queries)
    assert not set(folds[0] + folds[1]) & set(held.queries)
    assert all(len(f) > 0.35 * len(tune.queries) for f in folds)


def test_fold_is_a_fixed_hash_of_the_id() -> None:
    """The fold depends on the id alone (blake2b), not on the order or the tuning split."""
    assert [fold_of(q) for q in ("1", "2", "3", "13", "42")] == [
        fold_of(q) for q in ("1", "2", "3", "13", "42")
    ]
    assert split_folds(["3", "2", "1"]) == [
        [q for q in ("3", "2", "1") if fold_of(q) == k] for k in range(2)
    ]
    assert {fold_of(str(i), 3) for i in range(50)} == {0, 1, 2}
    assert Fold(1).contains("1") == (fold_of("1") == 1)


def test_out_of_fold_takes_the_model_that_left_the_fold_out() -> None:
    """Query q of fold k gets model k's result; a missing one is an error, never a fallback."""
    ids = [str(i) for i in range(20)]
    by_model = {k: {q: f"model{k}:{q}" for q in ids} for k in range(2)}
    chosen = out_of_fold(by_model, ids)
    assert chosen == {q: f"model{fold_of(q)}:{q}" for q in ids}
    partial = {k: {q: "x" for q in ids if fold_of(q) != k} for k in range(2)}
    with pytest.raises(KeyError, match="no out-of-fold result"):
        out_of_fold(partial, ids)


def test_fold_rejects_an_impossible_index() -> None:
    """Fold 2 of 2 (or a single fold) cannot exist."""
    with pytest.raises(ValueError, match="fold 2 of 2"):
        Fold(2, 2)
    with pytest.raises(ValueError):
        Fold(0, 1)

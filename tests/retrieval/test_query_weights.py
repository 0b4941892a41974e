"""The learned per-query fusion weight: features, fitting and round trip."""

from __future__ import annotations

import numpy as np
import pytest

from rag_pipelines.retrieval.query_weights import (
    FEATURES,
    QueryWeights,
    fit_query_weights,
    ndcg_at,
    query_features,
)


def test_features_describe_each_legs_scores() -> None:
    """Top score, margins relative to the top, top-10 agreement (Jaccard) and log terms."""
    x = query_features([0.8, 0.6, 0.5], [10.0, 5.0], ["a", "b"], ["b", "c"], 3)
    assert len(x) == len(FEATURES)
    assert x[:5] == pytest.approx([0.8, 0.25, 0.375, 0.5, 0.5])
    assert x[5] == pytest.approx(1 / 3)
    assert x[6] == pytest.approx(np.log(4))


def test_empty_legs_give_zero_features() -> None:
    """A leg with no hits contributes zeros instead of failing."""
    assert query_features([], [], [], [], 0) == [0.0] * len(FEATURES)


def test_fit_learns_a_feature_that_decides_the_best_leg() -> None:
    """Queries whose feature 0 is high want dense (α 1), low want BM25 (α 0): the fit finds it."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3))
    wants_dense = x[:, 0] > 0
    table = np.where(wants_dense[:, None], np.linspace(0, 1, 11), np.linspace(1, 0, 11))
    model = fit_query_weights(x, table, rounds=600)
    alphas = np.array([model.alpha(row) for row in x])
    assert ((alphas > 0.5) == wants_dense).mean() > 0.9
    constant = table.mean(axis=0).max()
    picked = table[np.arange(200), np.rint(alphas * 10).astype(int)].mean()
    assert picked > constant + 0.3


def test_fit_without_signal_keeps_the_best_constant() -> None:
    """If every query prefers α 0.3, the model predicts about 0.3 for any features."""
    x = np.random.default_rng(2).normal(size=(50, 2))
    table = np.tile(-np.abs(np.linspace(0, 1, 11) - 0.3), (50, 1))
    model = fit_query_weights(x, table, rounds=100)
    assert model.alpha([5.0, -5.0]) == pytest.approx(0.3, abs=0.06)


def test_weights_split_the_budget_and_keep_other_legs() -> None:
    """dense + bm25 = budget; graph keeps its base weight; JSON round trip is exact."""
    model = QueryWeights(mean=[0.0], std=[1.0], theta=[0.0, 1.0], budget=2.0, features=("f",))
    weights = model.weights([0.0], {"dense": 1.0, "bm25": 1.0, "graph": 0.5})
    assert weights == pytest.approx({"dense": 1.0, "bm25": 1.0, "graph": 0.5})
    assert model.weights([10.0], {"graph": 0.5})["dense"] > 1.99
    assert QueryWeights.from_json(model.to_json()) == model


def test_ndcg_matches_the_definition() -> None:
    """nDCG@10 with one relevant document at rank 2 is 1/log2(3)."""
    assert ndcg_at(["x", "a"], {"a": 1}) == pytest.approx(1 / np.log2(3))
    assert ndcg_at([], {"a": 1}) == 0.0
    assert ndcg_at(["a"], {}) == 0.0


def test_weights_round_alpha_to_the_fitted_grid() -> None:
    """Regression: serving used the raw α while the fit scored α rounded to the grid."""
    model = QueryWeights(mean=[0.0], std=[1.0], theta=[0.0, 1.0], budget=2.0, features=("f",))
    x = [0.3]  # α = sigmoid(0.3) ≈ 0.574 → 0.6
    assert model.weights(x, {})["dense"] == pytest.approx(2.0 * 0.6)

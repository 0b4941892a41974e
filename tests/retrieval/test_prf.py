"""RM3 pseudo-relevance feedback against weights computed by hand."""

from __future__ import annotations

import pytest

from rag_pipelines.config.models import PrfSettings
from rag_pipelines.index.bm25 import Bm25Model
from rag_pipelines.retrieval.prf import expand, relevance_model, rm3_weights, weighted_query_vector


def test_relevance_model_weights_terms_by_document_share_and_score() -> None:
    """P(t|R) = Σ P(t|D)·P(D|q): scores 3 and 1 give the documents shares 3/4 and 1/4."""
    feedback = [(["a", "a", "b", "c"], 3.0), (["b", "d"], 1.0)]
    model = relevance_model(feedback, fb_terms=10)
    assert model == pytest.approx(
        {"a": 0.75 * 0.5, "b": 0.75 * 0.25 + 0.25 * 0.5, "c": 0.75 * 0.25, "d": 0.25 * 0.5}
    )
    assert sum(model.values()) == pytest.approx(1.0)


def test_relevance_model_keeps_the_top_terms_renormalised_ties_by_term() -> None:
    """fb_terms cuts the tail; among equal weights the alphabetically first term stays."""
    model = relevance_model([(["z", "y", "x", "x"], 1.0)], fb_terms=2)
    assert model == pytest.approx({"x": 0.5 / 0.75, "y": 0.25 / 0.75})


def test_non_positive_scores_weigh_feedback_documents_uniformly() -> None:
    """All scores ≤ 0 (no evidence): each document counts the same."""
    model = relevance_model([(["a"], 0.0), (["b"], -1.0)], fb_terms=5)
    assert model == pytest.approx({"a": 0.5, "b": 0.5})


def test_rm3_interpolates_the_original_query() -> None:
    """RM3 = w·P(t|q) + (1−w)·RM1; a repeated query term counts twice."""
    weights = rm3_weights(["a", "a", "q"], [(["a", "b"], 1.0)], fb_terms=5, original_weight=0.6)
    assert weights == pytest.approx(
        {"a": 0.6 * 2 / 3 + 0.4 * 0.5, "q": 0.6 * 1 / 3, "b": 0.4 * 0.5}
    )
    assert sum(weights.values()) == pytest.approx(1.0)


def test_original_weight_one_is_the_original_query() -> None:
    """original_weight 1 adds expansion terms with weight 0 only: the ranking cannot change."""
    weights = rm3_weights(["a"], [(["b"], 1.0)], original_weight=1.0)
    assert weights["a"] == pytest.approx(1.0)
    assert weights.get("b", 0.0) == 0.0


def test_expand_reads_only_fb_docs_documents() -> None:
    """Feedback past fb_docs is ignored."""
    settings = PrfSettings(enabled=True, fb_docs=1, fb_terms=5, original_weight=0.5)
    weights = expand(settings, ["a"], [(["b"], 1.0), (["c"], 100.0)])
    assert set(weights) == {"a", "b"}


def test_weighted_query_vector_drops_unknown_and_zero_terms() -> None:
    """Terms outside the vocabulary or weighted 0 cannot score; ids come sorted."""
    model = Bm25Model.fit([["a", "b"], ["b", "c"]])
    indices, values = weighted_query_vector(model, {"c": 0.3, "a": 0.7, "zz": 1.0, "b": 0.0})
    assert indices == [model.vocab["a"], model.vocab["c"]]
    assert values == [0.7, 0.3]

"""Exact in-memory dense retrieval: documents ranked by their best chunk."""

from __future__ import annotations

import numpy as np

from rag_pipelines.evaluation.dense import dense_document_run
from rag_pipelines.evaluation.metrics import evaluate

CHUNKS = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
DOCS = ["a", "b", "c", "b"]


def test_documents_ranked_by_best_chunk_by_hand() -> None:
    """Query along x: a (1.0) > b (0.8, its better chunk) > c (0.0); scores decrease."""
    run = dense_document_run(["q"], np.array([[2.0, 0.0]]), CHUNKS, DOCS, depth=10)
    assert list(run["q"]) == ["a", "b", "c"]
    assert run["q"]["a"] > run["q"]["b"] > run["q"]["c"]


def test_depth_caps_documents_and_metrics_follow() -> None:
    """depth=1 keeps one document per query; ranx scores the run as expected."""
    queries = np.array([[0.0, 1.0], [1.0, 0.0]])
    run = dense_document_run(["q1", "q2"], queries, CHUNKS, DOCS, depth=1)
    assert run == {"q1": {"c": 1.0}, "q2": {"a": 1.0}}
    scores = evaluate({"q1": {"c": 1}, "q2": {"b": 1}}, run, ("mrr@10",))
    assert scores["mrr@10"] == 0.5


def test_zero_vectors_do_not_crash() -> None:
    """An all-zero query scores every chunk 0 and still returns a ranking."""
    run = dense_document_run(["q"], np.zeros((1, 2)), CHUNKS, DOCS, depth=10)
    assert set(run["q"]) == {"a", "b", "c"}

"""Equal scores rank in chunk-id order, whatever order the engine returned them in."""

from __future__ import annotations

from rag_pipelines.index.vector_store import VectorHit, best_first


def test_ties_rank_by_chunk_id() -> None:
    """Regression: Qdrant's tie order differed between two builds of the same chunks."""
    hits = [VectorHit("c", 1.0, {}), VectorHit("b", 2.0, {}), VectorHit("a", 1.0, {})]
    assert [h.chunk_id for h in best_first(hits)] == ["b", "a", "c"]
    assert [h.chunk_id for h in best_first(list(reversed(hits)))] == ["b", "a", "c"]

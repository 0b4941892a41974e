"""A reranker test double for tests about what a reranker is shown or where it runs."""

from __future__ import annotations

from collections.abc import Sequence

from rag_pipelines.retrieval.rerank import Reranked


class SpyReranker:
    """Records every passage it is asked to score and reverses their order.

    Stands in for a reranker (the `Reranker` protocol) where the claim is what a reranker is
    shown, not its quality.
    """

    def __init__(self) -> None:  # no model to load
        self.seen: list[str] = []

    def rerank(self, query: str, passages: Sequence[str], budget_ms: int) -> Reranked:
        """Reverse order, scores descending along it."""
        self.seen.extend(passages)
        order = list(reversed(range(len(passages))))
        return Reranked(
            order, {i: float(r) for r, i in enumerate(reversed(order))}, len(order), False
        )

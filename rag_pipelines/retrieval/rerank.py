"""Reranking fused candidates: what a reranker is, the cross-encoder, and order blending."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from rag_pipelines.errors import ModelLoadError
from rag_pipelines.retrieval.fusion import fuse_rankings

T = TypeVar("T")
# RRF constant for blending the two orders of a short head (top-N ≤ 200): small, so that the
# top ranks of each order dominate.
BLEND_K = 20


@dataclass
class Reranked:
    """Candidate order after reranking; unscored ones (budget ran out) keep their order."""

    order: list[int]
    scores: dict[int, float]
    scored: int
    budget_exhausted: bool


class Reranker(Protocol):
    """What the engine calls: reorder passages for a query within a latency budget.

    Implementations register a factory by kind (`retrieval.rerank.kind`) in
    `rag_pipelines.config.rerankers`; build one with `rerankers.base.build_reranker`.
    """

    def rerank(self, query: str, passages: Sequence[str], budget_ms: int) -> Reranked:
        """Scored passages best first, then the unscored ones in their given order."""
        ...


def score_in_batches(
    count: int,
    batch_size: int,
    deadline: float,
    score: Callable[[int, int], Sequence[float]],
) -> Reranked:
    """Candidates [start, end) scored batch by batch until done or past `deadline`
    (a perf_counter time); scored ones best first, then the rest in their given order."""
    scores: dict[int, float] = {}
    exhausted = False
    for start in range(0, count, batch_size):
        if time.perf_counter() > deadline:
            exhausted = True
            break
        for offset, value in enumerate(score(start, min(start + batch_size, count))):
            scores[start + offset] = float(value)
    ordered = sorted(scores, key=lambda i: -scores[i])
    rest = [i for i in range(count) if i not in scores]
    return Reranked(
        order=ordered + rest, scores=scores, scored=len(scores), budget_exhausted=exhausted
    )


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder scoring (query, passage) pairs."""

    def __init__(
        self,
        model_path: str,
        device: str = "cpu",
        batch_size: int = 16,
        max_length: int = 256,
        onnx_dir: Path | None = None,
    ) -> None:
        """`onnx_dir`: score with the model's verified ONNX export, cached there (CPU only)."""
        from sentence_transformers import CrossEncoder

        try:
            self.model: Any = CrossEncoder(
                model_path, device=device, max_length=max_length, local_files_only=True
            )
        except Exception as exc:
            raise ModelLoadError(f"could not load reranker {model_path!r}: {exc}") from exc
        self.backend = "torch"
        if onnx_dir is not None:
            from rag_pipelines.retrieval.rerank_onnx import onnx_cross_encoder

            self.model = onnx_cross_encoder(self.model, model_path, onnx_dir)
            self.backend = "onnx"
        self.model_path = model_path
        self.name = Path(model_path).name
        self.batch_size = batch_size
        self._lock = threading.Lock()  # torch modules are not safe to call from two threads at once

    def rerank(self, query: str, passages: Sequence[str], budget_ms: int) -> Reranked:
        """Score passages batch by batch until done or over budget; best first."""

        def score(start: int, end: int) -> Sequence[float]:
            with self._lock:
                return list(
                    self.model.predict(
                        [(query, p) for p in passages[start:end]],
                        batch_size=self.batch_size,
                        show_progress_bar=False,
                    )
                )

        deadline = time.perf_counter() + budget_ms / 1000
        return score_in_batches(len(passages), self.batch_size, deadline, score)


def blend_orders(head: Sequence[T], rerank_order: Sequence[int], blend: float) -> list[T]:
    """The head reordered by weighted RRF of its first-stage order and the reranker's order.

    blend = 1 is the reranker's order alone; 0 keeps the first stage. A blend guards against a
    reranker that is good on average but wrong on a query the first stage already got right.
    """
    if blend >= 1.0:
        return [head[i] for i in rerank_order]
    if blend <= 0.0:
        return list(head)
    first = [str(i) for i in range(len(head))]
    fused = fuse_rankings(
        {"first": first, "rerank": [str(i) for i in rerank_order]},
        {"first": 1.0 - blend, "rerank": blend},
        BLEND_K,
    )
    return [head[int(f.id)] for f in fused]

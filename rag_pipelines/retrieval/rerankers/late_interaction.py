"""Kind `late-interaction`: ColBERT-style MaxSim over a bi-encoder's token vectors, untrained.

A passage's score is the sum over the query's tokens of the best cosine between that token's
vector and any of the passage's; the vectors are the last hidden states of the transformer of
a sentence-transformers model (by default the version's own embedding model), each L2-normalised,
with [CLS]/[SEP]-like special tokens and padding left out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag_pipelines.config.rerankers import register
from rag_pipelines.errors import ModelLoadError
from rag_pipelines.retrieval.rerank import Reranked, score_in_batches
from rag_pipelines.retrieval.rerankers.base import RerankerSpec

KIND = "late-interaction"


def maxsim(query: np.ndarray, passage: np.ndarray) -> float:
    """Sum over query rows of the best dot product with any passage row (rows unit length).

    0 where either side has no token (an empty text).
    """
    if len(query) == 0 or len(passage) == 0:
        return 0.0
    q = np.asarray(query, dtype=np.float32)
    p = np.asarray(passage, dtype=np.float32)
    return float((q @ p.T).max(axis=1).sum())


class LateInteractionReranker:
    """MaxSim of query and passage token vectors, passages encoded in batches within a budget."""

    def __init__(
        self,
        model_path: str,
        device: str = "cpu",
        batch_size: int = 16,
        max_length: int | None = None,
        cache: MutableMapping[str, np.ndarray] | None = None,
    ) -> None:
        """`cache`: passage text → token vectors (float16), kept by the caller (an evaluation)."""
        from sentence_transformers import SentenceTransformer

        try:
            model = SentenceTransformer(model_path, device=device, local_files_only=True)
        except Exception as exc:
            raise ModelLoadError(
                f"could not load late-interaction model {model_path!r}: {exc}"
            ) from exc
        transformer: Any = model[0]
        if not hasattr(transformer, "auto_model") or not hasattr(transformer, "tokenizer"):
            raise ModelLoadError(
                f"{model_path} does not start with a transformer module; "
                "set retrieval.rerank.model to a sentence-transformers text model"
            )
        self.encoder: Any = transformer.auto_model.eval()
        self.tokenizer: Any = transformer.tokenizer
        self.max_length = int(max_length or model.max_seq_length or 256)
        self.device = device
        self.batch_size = batch_size
        self.cache = cache
        self.model_path = model_path
        self.name = Path(model_path).name
        self.backend = "torch"
        self._lock = threading.Lock()  # torch modules are not safe to call from two threads at once

    def encode(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Each text's token vectors (tokens × dim), unit length, special tokens and padding out."""
        import torch

        if not texts:
            return []
        encoded = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
            return_special_tokens_mask=True,
        )
        special = encoded.pop("special_tokens_mask").bool()
        keep = encoded["attention_mask"].bool() & ~special
        feed = {k: v.to(self.device) for k, v in encoded.items()}
        with self._lock, torch.inference_mode():
            hidden = self.encoder(**feed).last_hidden_state
            hidden = torch.nn.functional.normalize(hidden.float(), dim=-1).cpu()
        return [hidden[i][keep[i]].numpy() for i in range(len(texts))]

    def rerank(self, query: str, passages: Sequence[str], budget_ms: int) -> Reranked:
        """Score passages batch by batch until done or over budget; best first."""
        deadline = time.perf_counter() + budget_ms / 1000
        q = self.encode([query])[0]

        def score(start: int, end: int) -> list[float]:
            return [maxsim(q, m) for m in self._passage_vectors(passages[start:end])]

        return score_in_batches(len(passages), self.batch_size, deadline, score)

    def _passage_vectors(self, batch: Sequence[str]) -> list[np.ndarray]:
        if self.cache is None:
            return self.encode(batch)
        missing = [t for t in dict.fromkeys(batch) if t not in self.cache]
        for text, matrix in zip(missing, self.encode(missing), strict=True):
            self.cache[text] = matrix.astype(np.float16)
        return [self.cache[t] for t in batch]


def build(spec: RerankerSpec) -> LateInteractionReranker:
    """A late-interaction reranker over the spec's model folder (torch, on its device)."""
    return LateInteractionReranker(
        spec.model_path, device=spec.device, batch_size=spec.batch_size, max_length=spec.max_length
    )


register(KIND, build)

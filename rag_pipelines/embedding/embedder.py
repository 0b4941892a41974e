"""Embed what is not cached yet, in batches, saving progress as it goes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.embedding.cache import VectorCache
from rag_pipelines.embedding.model import EmbeddingModel

Progress = Callable[[int, int], None]
SAVE_EVERY = 512  # texts per encode call; a crash loses at most this much work


@dataclass
class EmbedReport:
    """What an embedding run did."""

    chunks: int
    unique_texts: int
    embedded: int
    reused: int
    tokens_embedded: int
    seconds: float
    fingerprint: str


def embed_chunks(
    chunks: list[Chunk],
    model: EmbeddingModel,
    cache: VectorCache,
    progress: Progress | None = None,
) -> EmbedReport:
    """Make sure every chunk's text has a vector for the model's fingerprint."""
    started = time.perf_counter()
    key = model.fingerprint.key
    by_hash = {c.text_hash: c for c in chunks}
    # Longest first: texts of similar length share a batch and pad little (build throughput).
    todo = sorted(cache.missing(key, by_hash), key=lambda h: -len(by_hash[h].embed_text))
    tokens = 0
    for i in range(0, len(todo), SAVE_EVERY):
        batch = todo[i : i + SAVE_EVERY]
        vectors = model.encode([by_hash[h].embed_text for h in batch])
        cache.put(key, dict(zip(batch, vectors, strict=True)))
        tokens += sum(by_hash[h].token_count for h in batch)
        if progress is not None:
            progress(min(i + SAVE_EVERY, len(todo)), len(todo))
    return EmbedReport(
        chunks=len(chunks),
        unique_texts=len(by_hash),
        embedded=len(todo),
        reused=len(by_hash) - len(todo),
        tokens_embedded=tokens,
        seconds=time.perf_counter() - started,
        fingerprint=key,
    )

"""embed_chunks embeds only texts without a cached vector, each unique text once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag_pipelines.chunking import Chunk
from rag_pipelines.embedding.cache import EmbeddingCache
from rag_pipelines.embedding.embedder import embed_chunks
from rag_pipelines.hashing import sha256_text


def make_chunk(text: str, document_id: str = "doc", ordinal: int = 0) -> Chunk:
    """A chunk whose embedded text is `text`."""
    text_hash = sha256_text(text)
    return Chunk(
        id=sha256_text(document_id, text_hash, str(ordinal))[:32],
        source="docs",
        document_id=document_id,
        document_uri=f"file:///{document_id}",
        document_hash="h",
        title="T",
        ordinal=ordinal,
        text=text,
        embed_text=text,
        text_hash=text_hash,
        token_count=len(text.split()),
        chunker="test",
    )


def test_second_run_embeds_nothing(tmp_path: Path, fake_embedder: Any) -> None:
    """A repeated run finds every vector cached and calls the model zero times."""
    chunks = [make_chunk(f"text number {i}", ordinal=i) for i in range(10)]
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    first = embed_chunks(chunks, fake_embedder, cache)
    assert (first.embedded, first.reused, fake_embedder.texts_encoded) == (10, 0, 10)
    assert first.tokens_embedded == 30
    calls = fake_embedder.calls
    second = embed_chunks(chunks, fake_embedder, cache)
    assert (second.embedded, second.reused, second.tokens_embedded) == (0, 10, 0)
    assert fake_embedder.calls == calls
    assert second.fingerprint == fake_embedder.fingerprint.key


def test_identical_texts_are_embedded_once(tmp_path: Path, fake_embedder: Any) -> None:
    """Chunks in different documents with the same text share one vector."""
    chunks = [
        make_chunk("shared paragraph", document_id="a"),
        make_chunk("shared paragraph", document_id="b"),
        make_chunk("own paragraph", document_id="b", ordinal=1),
    ]
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    report = embed_chunks(chunks, fake_embedder, cache)
    assert (report.chunks, report.unique_texts, report.embedded) == (3, 2, 2)
    assert fake_embedder.texts_encoded == 2


def test_only_new_texts_are_embedded(tmp_path: Path, fake_embedder: Any) -> None:
    """After an edit, only the changed chunk's text reaches the model, and its vector is right."""
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    old = [make_chunk(f"paragraph {i}", ordinal=i) for i in range(5)]
    embed_chunks(old, fake_embedder, cache)
    new = [*old[:4], make_chunk("paragraph four, edited", ordinal=4)]
    report = embed_chunks(new, fake_embedder, cache)
    assert (report.embedded, report.reused) == (1, 4)
    assert fake_embedder.texts_encoded == 6
    key = fake_embedder.fingerprint.key
    cached = cache.get(key, [new[4].text_hash])[new[4].text_hash]
    assert np.array_equal(cached, fake_embedder.encode([new[4].embed_text])[0])


def test_progress_reports_batches(
    tmp_path: Path, fake_embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Progress is reported after each saved batch, ending at the total."""
    monkeypatch.setattr("rag_pipelines.embedding.embedder.SAVE_EVERY", 4)
    chunks = [make_chunk(f"text {i}", ordinal=i) for i in range(10)]
    seen: list[tuple[int, int]] = []
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    embed_chunks(chunks, fake_embedder, cache, lambda done, total: seen.append((done, total)))
    assert seen == [(4, 10), (8, 10), (10, 10)]
    assert fake_embedder.calls == 3

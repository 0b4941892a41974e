"""No chunk is longer than the model reads: counted and checked with the real tokenizer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rag_pipelines.chunking import Chunk, Chunker
from rag_pipelines.config.models import ChunkingSettings
from rag_pipelines.ingest.models import Document
from tests.chunking.documents import nasty_document, scifact_documents

SETTINGS = [(size, overlap) for size in (64, 128, 254, 400) for overlap in (0, 30)]


@pytest.fixture(scope="module")
def corpus(scifact_dir: Path) -> list[Document]:
    """300 real abstracts plus one adversarial document."""
    return [*scifact_documents(scifact_dir, 300), nasty_document()]


def test_minilm_limit_is_256_minus_special_tokens(minilm: Any) -> None:
    """MiniLM reads 256 tokens including [CLS] and [SEP], so chunks get 254."""
    assert minilm.max_seq_length == 256
    assert minilm.tokenizer.max_tokens == 254


@pytest.mark.parametrize(("size", "overlap"), SETTINGS, ids=[f"{s}-{o}" for s, o in SETTINGS])
def test_no_chunk_exceeds_the_model_limit(
    minilm: Any, corpus: list[Document], size: int, overlap: int
) -> None:
    """Every chunk's counted tokens are true, within budget, and survive the model's tokenizer."""
    tokenizer = minilm.tokenizer
    chunks: list[Chunk] = Chunker(
        ChunkingSettings(chunk_size=size, chunk_overlap=overlap), tokenizer
    ).chunk_all(corpus)
    assert {c.document_id for c in chunks} == {d.id for d in corpus}
    budget = min(size, tokenizer.max_tokens)
    for c in chunks:
        assert c.token_count == len(tokenizer.encode(c.embed_text)), c.id
        assert 0 < c.token_count <= budget, (c.id, c.token_count)

    texts = [c.embed_text for c in chunks]
    model = minilm._model
    full = [len(ids) for ids in model.tokenizer(texts, truncation=False)["input_ids"]]
    assert max(full) <= minilm.max_seq_length
    # What the model really feeds forward (its own truncation applied) is the whole text.
    seen = model.tokenize(texts)["attention_mask"].sum(dim=1).tolist()
    assert seen == full

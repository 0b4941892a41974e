"""Chunks carry the pages their text lies on, from Section.page_starts."""

from __future__ import annotations

import re

from rag_pipelines.chunking import Chunker, Tokenizer
from rag_pipelines.config.models import ChunkingSettings
from rag_pipelines.ingest.models import Section
from tests.chunking.documents import make_document


def paged_section(pages: list[int], sentences: int = 15) -> Section:
    """A section whose every word names its page (p7w3 is a word on page 7)."""
    text, starts = "", []
    for page in pages:
        starts.append((len(text), page))
        words = [f"p{page}w{i}" for i in range(sentences * 6)]
        body = " ".join(
            " ".join(words[i : i + 6]).capitalize() + "." for i in range(0, len(words), 6)
        )
        text += body + " "
    return Section(path=["Report"], text=text.strip(), page_starts=starts)


def pages_named(text: str) -> list[int]:
    """The pages whose words appear in a chunk's text."""
    return sorted({int(p) for p in re.findall(r"p(\d+)w\d+", text, flags=re.IGNORECASE)})


def test_chunk_pages_match_the_pages_of_their_words(tokenizer: Tokenizer) -> None:
    """Each chunk lists exactly the pages its words came from, including page-spanning ones."""
    section = paged_section([3, 4, 5, 9])
    document = make_document([section])
    for overlap in (0, 20):
        settings = ChunkingSettings(chunk_size=64, chunk_overlap=overlap)
        chunks = Chunker(settings, tokenizer).chunk(document)
        assert len(chunks) > 8
        assert any(len(c.pages) > 1 for c in chunks)
        for c in chunks:
            assert c.pages == pages_named(c.text), c.text
        assert sorted({p for c in chunks for p in c.pages}) == [3, 4, 5, 9]


def test_no_page_starts_means_no_pages(tokenizer: Tokenizer) -> None:
    """A section without page information yields chunks with an empty page list."""
    section = paged_section([1, 2])
    document = make_document([section.model_copy(update={"page_starts": []})])
    chunks = Chunker(ChunkingSettings(chunk_size=64, chunk_overlap=0), tokenizer).chunk(document)
    assert chunks and all(c.pages == [] for c in chunks)

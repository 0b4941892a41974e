"""No text is lost or rewritten: chunk bodies are the section text, cut, in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_pipelines.chunking import Chunker, Tokenizer
from rag_pipelines.config.models import ChunkingSettings
from rag_pipelines.ingest.models import Document, Section
from tests.chunking.documents import make_document, nasty_document, paragraph, scifact_documents


def squeeze(text: str) -> str:
    """Text without any whitespace (chunk boundaries may drop the spaces between pieces)."""
    return "".join(text.split())


@pytest.fixture(scope="module")
def documents(scifact_dir: Path) -> list[Document]:
    """Real abstracts, the adversarial document and a multi-section one."""
    sections = [Section(path=[t], text=paragraph(t, 30)) for t in ("leave", "travel", "pay")]
    return [*scifact_documents(scifact_dir, 300), nasty_document(), make_document(sections)]


@pytest.mark.parametrize("size", [64, 254])
def test_bodies_concatenate_to_the_document_text(
    tokenizer: Tokenizer, documents: list[Document], size: int
) -> None:
    """With no overlap (and no short-chunk merging), the bodies are every character, once."""
    settings = ChunkingSettings(chunk_size=size, chunk_overlap=0, min_chunk_tokens=0)
    chunker = Chunker(settings, tokenizer)
    for document in documents:
        chunks = chunker.chunk(document)
        assert [c.ordinal for c in chunks] == list(range(len(chunks)))
        joined = "".join(squeeze(c.text) for c in chunks)
        assert joined == "".join(squeeze(s.text) for s in document.sections), document.id


@pytest.mark.parametrize("overlap", [0, 30])
def test_bodies_are_verbatim_section_text(
    tokenizer: Tokenizer, documents: list[Document], overlap: int
) -> None:
    """A body is a substring of its section: never lower-cased or re-spaced by a decoder."""
    chunker = Chunker(ChunkingSettings(chunk_size=128, chunk_overlap=overlap), tokenizer)
    for document in documents:
        texts = {tuple(s.path): s.text for s in document.sections}
        for c in chunker.chunk(document):
            assert c.text in texts[tuple(c.section)], (document.id, c.text[:80])

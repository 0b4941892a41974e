"""The context header (title › section path) prefixes what is embedded, and only that."""

from __future__ import annotations

import pytest

from rag_pipelines.chunking import Chunker, Tokenizer
from rag_pipelines.chunking.chunker import HEADER_SEPARATOR
from rag_pipelines.config.models import ChunkingSettings
from rag_pipelines.ingest.models import Section
from tests.chunking.documents import make_document, paragraph

LONG = "Appendix " + " ".join(f"clause{i}" for i in range(80))


@pytest.mark.parametrize(
    ("title", "path", "enabled", "expected"),
    [
        ("Handbook", ["Leave", "Parental"], True, "Handbook › Leave › Parental"),
        ("Handbook", ["Leave", "Parental"], False, ""),
        ("Handbook", [], True, "Handbook"),
        ("", ["Leave", "Parental"], True, "Leave › Parental"),
        ("", [], True, ""),
        ("Handbook", ["Handbook", "Leave"], True, "Handbook › Leave"),
        ("Handbook", [LONG, "Parental"], True, "Handbook › Parental"),
    ],
    ids=["title+path", "disabled", "title-only", "path-only", "nothing", "h1-is-title", "too-long"],
)
def test_header_prefixes_embed_text(
    tokenizer: Tokenizer, title: str, path: list[str], enabled: bool, expected: str
) -> None:
    """embed_text is header, newline, body when enabled; the body alone otherwise."""
    document = make_document([Section(path=path, text=paragraph("leave"))], title=title)
    settings = ChunkingSettings(chunk_size=64, chunk_overlap=0, context_header=enabled)
    chunks = Chunker(settings, tokenizer).chunk(document)
    assert len(chunks) > 1
    for c in chunks:
        assert c.embed_text == (f"{expected}\n{c.text}" if expected else c.text)
        assert c.title == title and c.section == path
        assert HEADER_SEPARATOR.strip() not in c.text


def test_header_is_counted_in_the_budget(tokenizer: Tokenizer) -> None:
    """The header's tokens come out of the chunk size, so embed_text still fits."""
    document = make_document([Section(path=["Leave"], text=paragraph("leave", 40))])
    chunks = Chunker(ChunkingSettings(chunk_size=48, chunk_overlap=0), tokenizer).chunk(document)
    assert all(c.token_count <= 48 for c in chunks)
    assert max(c.token_count for c in chunks) > 40

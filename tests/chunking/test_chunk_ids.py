"""Chunk ids come from content: stable across runs, changed only where the text changed."""

from __future__ import annotations

import pytest

from rag_pipelines.chunking import Chunk, Chunker, Tokenizer
from rag_pipelines.config.models import ChunkingSettings
from rag_pipelines.ingest.models import Document, Section
from tests.chunking.documents import make_document, paragraph

SMALL = ChunkingSettings(chunk_size=64, chunk_overlap=0)


def chunk(
    document: Document, tokenizer: Tokenizer, settings: ChunkingSettings = SMALL
) -> list[Chunk]:
    """Chunks of a document from a fresh Chunker (no state carried between calls)."""
    return Chunker(settings, tokenizer).chunk(document)


def three_sections(middle: str) -> Document:
    """A document whose middle section text is `middle`."""
    return make_document(
        [
            Section(path=["Leave"], text=paragraph("leave")),
            Section(path=["Travel"], text=middle),
            Section(path=["Security"], text=paragraph("security")),
        ]
    )


def test_ids_are_stable_across_chunker_instances(tokenizer: Tokenizer) -> None:
    """Two fresh chunkers give the same ids and texts for the same document."""
    document = three_sections(paragraph("travel"))
    first, second = chunk(document, tokenizer), chunk(document, tokenizer)
    assert len(first) > 3
    assert [(c.id, c.text, c.embed_text) for c in first] == [
        (c.id, c.text, c.embed_text) for c in second
    ]


def test_ids_are_unique_within_a_document(tokenizer: Tokenizer) -> None:
    """Every chunk of a document has its own id."""
    chunks = chunk(three_sections(paragraph("travel")), tokenizer)
    assert len({c.id for c in chunks}) == len(chunks)


def test_ids_change_when_text_changes(tokenizer: Tokenizer) -> None:
    """A one-word edit gives the edited chunk a new id."""
    before = chunk(
        make_document([Section(text="Remote work is allowed two days a week.")]), tokenizer
    )
    after = chunk(
        make_document([Section(text="Remote work is allowed three days a week.")]), tokenizer
    )
    assert len(before) == len(after) == 1
    assert before[0].id != after[0].id


@pytest.mark.parametrize(("field", "value"), [("doc_id", "other-doc"), ("source", "other_source")])
def test_same_text_elsewhere_gets_another_id(tokenizer: Tokenizer, field: str, value: str) -> None:
    """Identical text in another document or source is a different chunk."""
    sections = [Section(text="Remote work is allowed two days a week.")]
    base = chunk(make_document(sections), tokenizer)[0]
    moved = chunk(make_document(sections, **{field: value}), tokenizer)[0]
    assert base.text_hash == moved.text_hash
    assert base.id != moved.id


@pytest.mark.parametrize(
    ("header", "paths"),
    [(True, [["FAQ"], ["FAQ"], ["FAQ"]]), (False, [["One"], ["Two"], ["Three"]])],
    ids=["same-heading", "no-header"],
)
def test_repeated_paragraphs_get_distinct_ids(
    tokenizer: Tokenizer, header: bool, paths: list[list[str]]
) -> None:
    """A paragraph repeated verbatim gets one id per occurrence (the occurrence counter)."""
    text = "Contact the help desk if your laptop does not start."
    document = make_document([Section(path=p, text=text) for p in paths])
    settings = ChunkingSettings(
        chunk_size=64, chunk_overlap=0, context_header=header, min_chunk_tokens=0
    )
    chunks = chunk(document, tokenizer, settings)
    assert len(chunks) == 3
    assert len({c.text_hash for c in chunks}) == 1
    assert len({c.id for c in chunks}) == 3


def test_edit_in_one_section_keeps_other_sections_ids(tokenizer: Tokenizer) -> None:
    """Editing the middle section changes only that section's chunk ids."""
    before = chunk(three_sections(paragraph("travel")), tokenizer)
    after = chunk(three_sections(paragraph("travel") + " Trains are preferred."), tokenizer)

    def ids(chunks: list[Chunk], heading: str) -> list[str]:
        return [c.id for c in chunks if c.section == [heading]]

    assert ids(before, "Leave") == ids(after, "Leave")
    assert ids(before, "Security") == ids(after, "Security")
    assert ids(before, "Travel") != ids(after, "Travel")
    assert len(ids(before, "Leave")) > 1

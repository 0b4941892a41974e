"""Short chunks (PDF margin debris, a section's tiny tail) merge into a neighbour or go."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_pipelines.chunking import Chunker, Tokenizer
from rag_pipelines.chunking.short import Piece, merge_short_pieces
from rag_pipelines.config.models import ChunkingSettings, SourceConfig
from rag_pipelines.ingest.ingestion import ingest_source
from rag_pipelines.ingest.models import Document, Section
from tests.chunking.documents import make_document, paragraph


def words(text: str) -> int:
    """A whitespace tokenizer: the merge logic only needs a count."""
    return len(text.split())


def pieces_of(sections: list[tuple[str, list[str]]], header: bool = True) -> list[Piece]:
    """One piece per (section text, cut points) pair: each section cut into its given bodies."""
    out: list[Piece] = []
    for index, (text, bodies) in enumerate(sections):
        section = Section(path=[f"S{index}"], text=text)
        cursor = 0
        for body in bodies:
            start = text.find(body, cursor)
            cursor = start + 1
            out.append(
                Piece(
                    section=section,
                    section_index=index,
                    header=f"Doc › S{index}" if header else "",
                    body=body,
                    start=start,
                    end=start + len(body),
                    tokens=words(body),
                )
            )
    return out


LONG = " ".join(f"w{i}" for i in range(30))


def test_a_short_tail_joins_the_previous_piece_of_its_section_without_repeats() -> None:
    """The tail's span of the section is added once, even where the two pieces overlap."""
    text = f"{LONG} tail words"
    pieces = pieces_of([(text, [LONG, "w29 tail words"])])  # the tail overlaps by one word
    merged, counts = merge_short_pieces(pieces, min_tokens=5, count=words, limit=100)
    assert [p.body for p in merged] == [text]
    assert (counts.merged, counts.extended, counts.dropped) == (1, 0, 0)


def test_a_short_section_joins_its_neighbour_which_keeps_its_own_header() -> None:
    """Margin debris in a section of its own goes into the next section's piece."""
    pieces = pieces_of([("1 2 0 2", ["1 2 0 2"]), (LONG, [LONG])])
    merged, counts = merge_short_pieces(pieces, min_tokens=5, count=words, limit=100)
    assert len(merged) == 1
    assert merged[0].header == "Doc › S1" and merged[0].section.path == ["S1"]
    assert merged[0].body == f"1 2 0 2\n\n{LONG}"
    assert counts.merged == 1


def test_the_own_section_is_preferred_to_the_previous_section() -> None:
    """A section's short first piece joins the rest of its section, not the section before."""
    second = f"tiny start {LONG}"
    pieces = pieces_of([(LONG, [LONG]), (second, ["tiny start", LONG])])
    merged, _ = merge_short_pieces(pieces, min_tokens=5, count=words, limit=100)
    assert [p.body for p in merged] == [LONG, second]
    assert merged[1].section_index == 1


def test_short_pieces_in_a_row_merge_until_they_are_long_enough() -> None:
    """Two debris sections merge with each other and then with real text."""
    pieces = pieces_of([("1 2", ["1 2"]), ("]", ["]"]), (LONG, [LONG])])
    merged, counts = merge_short_pieces(pieces, min_tokens=5, count=words, limit=100)
    assert len(merged) == 1 and merged[0].tokens >= 5
    assert counts.merged == 2


def test_a_tail_that_fits_no_neighbour_borrows_the_text_before_it() -> None:
    """A full previous piece cannot take the tail; the tail grows back over its section."""
    text = f"{LONG} tail"
    pieces = pieces_of([(text, [LONG, "tail"])])
    merged, counts = merge_short_pieces(pieces, min_tokens=5, count=words, limit=33)
    assert [p.body for p in merged] == [LONG, "w26 w27 w28 w29 tail"]
    assert counts.extended == 1 and merged[1].tokens == 5


def test_a_short_piece_that_fits_nowhere_is_dropped_and_counted() -> None:
    """Debris between two full sections has nowhere to go: it is dropped, not embedded."""
    pieces = pieces_of([(LONG, [LONG]), ("1 2 0 2", ["1 2 0 2"]), (LONG, [LONG])])
    merged, counts = merge_short_pieces(pieces, min_tokens=5, count=words, limit=33)
    assert [p.body for p in merged] == [LONG, LONG]
    assert counts.dropped == 1


@pytest.mark.parametrize("min_tokens", [0, 5])
def test_a_documents_only_piece_is_kept(min_tokens: int) -> None:
    """A short document stays searchable: its one piece is never merged away or dropped."""
    pieces = pieces_of([("Parking is free.", ["Parking is free."])])
    merged, counts = merge_short_pieces(pieces, min_tokens=min_tokens, count=words, limit=100)
    assert [p.body for p in merged] == ["Parking is free."]
    assert counts.merged == counts.dropped == 0


def test_zero_leaves_every_piece() -> None:
    """min_chunk_tokens: 0 turns merging off."""
    pieces = pieces_of([("1 2 0 2", ["1 2 0 2"]), (LONG, [LONG])])
    merged, _ = merge_short_pieces(pieces, min_tokens=0, count=words, limit=100)
    assert merged == pieces


def debris_document(doc_id: str = "paper.pdf") -> Document:
    """A paper whose parse starts with margin debris in sections of their own."""
    return make_document(
        [
            Section(text="1 2 0 2"),
            Section(path=["n u J"], text="1 2\n\n]"),
            Section(path=["Abstract"], text=paragraph("layout detection", sentences=6)),
            Section(path=["Method"], text=paragraph("table parsing", sentences=6)),
        ],
        title="LayoutParser",
        doc_id=doc_id,
    )


def test_the_chunker_merges_debris_and_counts_it(tokenizer: Tokenizer) -> None:
    """No chunk of the paper has under min_chunk_tokens of its own; the debris is counted."""
    chunker = Chunker(ChunkingSettings(chunk_size=200), tokenizer)
    chunks = chunker.chunk(debris_document())
    assert all(chunker.count(c.text) >= chunker.min_tokens for c in chunks)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert chunks[0].section == ["Abstract"] and chunks[0].text.startswith("1 2 0 2")
    assert chunker.short.merged == 2
    assert all(c.token_count <= chunker.limit for c in chunks)


def test_ids_change_only_for_documents_with_short_chunks(tokenizer: Tokenizer) -> None:
    """Turning merging on keeps every id of a document without short chunks (cache hits)."""
    clean = make_document(
        [Section(path=["A"], text=paragraph("travel")), Section(path=["B"], text=paragraph("pay"))],
        doc_id="clean.md",
    )
    off = Chunker(ChunkingSettings(min_chunk_tokens=0), tokenizer)
    on = Chunker(ChunkingSettings(), tokenizer)
    assert [c.id for c in on.chunk(clean)] == [c.id for c in off.chunk(clean)]
    assert [c.text_hash for c in on.chunk(clean)] == [c.text_hash for c in off.chunk(clean)]
    debris = debris_document()
    off_ids = {c.id for c in off.chunk(debris)}
    on_ids = {c.id for c in on.chunk(debris)}
    assert off_ids != on_ids
    assert on.label != off.label  # a changed threshold re-chunks, then reuses cached vectors


def test_a_quarter_of_a_small_chunk_size_is_the_most_that_counts(tokenizer: Tokenizer) -> None:
    """chunk_size 24 keeps its chunks: a 20-token threshold would make all of them short."""
    chunker = Chunker(ChunkingSettings(chunk_size=24, chunk_overlap=0), tokenizer)
    assert chunker.min_tokens == 6


@pytest.mark.slow  # parses the five real PDFs (~10 s)
def test_no_short_chunk_remains_in_the_real_pdfs(
    tokenizer: Tokenizer, mixed_docs_dir: Path
) -> None:
    """The mixed-docs PDFs' margin debris ("1 2 0 2", "n u J", arXiv stamps) is not a chunk."""
    source = SourceConfig.model_validate(
        {
            "name": "mixed",
            "connector": {"type": "filesystem", "root": str(mixed_docs_dir), "include": ["pdf/*"]},
        }
    )
    documents = ingest_source(source, {}).documents
    assert len(documents) == 5
    before = Chunker(ChunkingSettings(min_chunk_tokens=0), tokenizer)
    chunker = Chunker(ChunkingSettings(), tokenizer)
    short_before = 0
    for document in documents:
        short_before += sum(
            1 for c in before.chunk(document) if before.count(c.text) < chunker.min_tokens
        )
        chunks = chunker.chunk(document)
        assert chunks, document.id
        for c in chunks:
            assert chunker.count(c.text) >= chunker.min_tokens, (document.id, c.text)
            assert c.token_count <= chunker.limit
    assert short_before >= 5  # the debris is really there without merging
    handled = chunker.short.merged + chunker.short.extended + chunker.short.dropped
    assert 0 < handled <= short_before  # two short pieces may merge into one long enough

"""Short pieces: chunks with too little content of their own to embed alone.

PDF margin debris ("1 2 0 2", an arXiv stamp, a heading "n u J") parses into sections of a few
characters. Embedded alone, such a chunk is mostly its context header (title › section), so it
is the closest vector to any query about the document's topic and ranks first in dense search.
A piece whose own text (the header not counted) has fewer than `min_tokens` tokens is merged
into a neighbour of the same document, preferring its own section; a section's short tail that
fits no neighbour borrows the text before it in its section instead; a piece that can join
nothing is dropped. A document's only piece is always kept, so a short document stays
searchable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rag_pipelines.ingest.models import Section


@dataclass
class Piece:
    """One chunk before it gets its id: its section, header, text and place in the section."""

    section: Section
    section_index: int
    header: str
    body: str
    start: int = -1  # offset of body in section.text; -1 where the splitter changed the text
    end: int = -1
    pages: list[int] = field(default_factory=list)
    tokens: int = 0

    def embed_text(self, body: str | None = None) -> str:
        """What the model would embed for this piece (or for another body under its header)."""
        text = self.body if body is None else body
        return f"{self.header}\n{text}" if self.header else text


@dataclass
class ShortPieceCounts:
    """What happened to short pieces."""

    merged: int = 0
    extended: int = 0
    dropped: int = 0

    def add(self, other: ShortPieceCounts) -> None:
        """Add another document's counts to these."""
        self.merged += other.merged
        self.extended += other.extended
        self.dropped += other.dropped


def merge_short_pieces(
    pieces: list[Piece], min_tokens: int, count: Callable[[str], int], limit: int
) -> tuple[list[Piece], ShortPieceCounts]:
    """The pieces of one document with every short piece merged, extended or dropped.

    Args:
        pieces: the document's pieces in reading order, `tokens` set to their body's tokens.
        min_tokens: the least body tokens a piece may have (0 leaves the pieces as they are).
        count: tokens of a text by the embedding model's tokenizer.
        limit: the most tokens a piece's embedded text (header included) may have.
    """
    counts = ShortPieceCounts()
    out = list(pieces)
    i = 0
    while min_tokens > 0 and len(out) > 1 and i < len(out):
        piece = out[i]
        if piece.tokens >= min_tokens:
            i += 1
            continue
        target = _merge_target(out, i, count, limit)
        if target is not None:
            j, merged = target
            out[j] = merged
            del out[i]
            counts.merged += 1
            i = min(i, j)  # where the merged piece now is: it may itself still be short
            continue
        extended = _extend_backwards(out, i, min_tokens, count, limit)
        if extended is not None:
            out[i] = extended
            counts.extended += 1
            i += 1
            continue
        del out[i]
        counts.dropped += 1
    return out, counts


def _merge_target(
    pieces: list[Piece], i: int, count: Callable[[str], int], limit: int
) -> tuple[int, Piece] | None:
    """The neighbour index and merged piece for piece i: same section first, then previous."""
    piece = pieces[i]
    neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(pieces)]
    neighbours.sort(key=lambda j: pieces[j].section_index != piece.section_index)
    for j in neighbours:
        first, second = (pieces[j], piece) if j < i else (piece, pieces[j])
        host = pieces[j]
        body = _joined(first, second)
        if count(host.embed_text(body)) <= limit:
            same = first.section_index == second.section_index
            return j, Piece(
                section=host.section,
                section_index=host.section_index,
                header=host.header,
                body=body,
                start=min(first.start, second.start) if same else host.start,
                end=max(first.end, second.end) if same else host.end,
                pages=sorted({*first.pages, *second.pages}),
                tokens=count(body),
            )
    return None


def _joined(first: Piece, second: Piece) -> str:
    """The text of two adjacent pieces as one: their span of the section, else both texts."""
    if first.section_index == second.section_index and first.start >= 0 and second.end >= 0:
        # Pieces of one section overlap; the section's own text between them has no repeats.
        return first.section.text[first.start : second.end].strip()
    return f"{first.body}\n\n{second.body}"


def _extend_backwards(
    pieces: list[Piece], i: int, min_tokens: int, count: Callable[[str], int], limit: int
) -> Piece | None:
    """Piece i grown back over the words before it in its section until it has enough tokens."""
    piece = pieces[i]
    if piece.start <= 0 or piece.end < 0:
        return None
    before = piece.section.text[: piece.start].split(" ")
    taken = 0
    body = piece.body
    start = piece.start
    while taken < len(before):
        taken += 1
        start = len(" ".join(before[: len(before) - taken]))
        candidate = piece.section.text[start : piece.end].strip()
        if count(piece.embed_text(candidate)) > limit:
            return None
        body = candidate
        if count(body) >= min_tokens:
            return Piece(
                section=piece.section,
                section_index=piece.section_index,
                header=piece.header,
                body=body,
                start=start,
                end=piece.end,
                pages=piece.section.pages_between(start, piece.end),
                tokens=count(body),
            )
    return None

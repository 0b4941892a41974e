"""Sentence-aware, heading-aware chunking sized in the embedding model's tokens."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rag_pipelines.chunking.models import Chunk, Tokenizer
from rag_pipelines.chunking.short import Piece, ShortPieceCounts, merge_short_pieces
from rag_pipelines.config.models import ChunkingSettings
from rag_pipelines.hashing import sha256_text
from rag_pipelines.ingest.models import Document, Section

if TYPE_CHECKING:
    from llama_index.core.node_parser import SentenceSplitter

MIN_BODY_TOKENS = 16
HEADER_SEPARATOR = " › "


class Chunker:
    """Cuts documents into chunks whose embedded text never exceeds the model's limit.

    Sections come from the document's headings (parsing keeps them), so a chunk never spans two
    sections; within a section llama-index's SentenceSplitter packs whole sentences up to the
    token budget, counting tokens with the embedding model's own tokenizer. The budget leaves
    room for the context header (title › section path) that is embedded with each chunk.
    """

    def __init__(self, settings: ChunkingSettings, tokenizer: Tokenizer) -> None:
        self.settings = settings
        self.tokenizer = tokenizer
        self.limit = min(settings.chunk_size, tokenizer.max_tokens)
        # A quarter of the limit at most: small chunk sizes must not make every chunk short.
        self.min_tokens = min(settings.min_chunk_tokens, self.limit // 4)
        self.label = (
            f"sentence/size={settings.chunk_size}/overlap={settings.chunk_overlap}"
            f"/header={int(settings.context_header)}/max={tokenizer.max_tokens}"
            f"/min={self.min_tokens}"
        )
        self.short = ShortPieceCounts()  # short pieces merged/extended/dropped so far
        self._splitters: dict[tuple[int, int], SentenceSplitter] = {}

    def count(self, text: str) -> int:
        """Tokens in `text` by the model's tokenizer."""
        return len(self.tokenizer.encode(text))

    def chunk(self, document: Document) -> list[Chunk]:
        """The chunks of one document, in reading order, with stable ids."""
        pieces: list[Piece] = []
        for index, section in enumerate(document.sections):
            title = document.title if document.title_from_content else ""
            header = self._header(title, section.path)
            for body, start, pages in self._split_section(section, header):
                pieces.append(
                    Piece(
                        section=section,
                        section_index=index,
                        header=header,
                        body=body,
                        start=start,
                        end=start + len(body) if start >= 0 else -1,
                        pages=pages,
                        tokens=self.count(body),
                    )
                )
        pieces, counts = merge_short_pieces(pieces, self.min_tokens, self.count, self.limit)
        self.short.add(counts)
        chunks: list[Chunk] = []
        seen: Counter[str] = Counter()
        for piece in pieces:
            embed_text = piece.embed_text()
            text_hash = sha256_text(embed_text)
            occurrence = seen[text_hash]
            seen[text_hash] += 1
            chunks.append(
                Chunk(
                    id=sha256_text(document.source, document.id, text_hash, str(occurrence))[:32],
                    source=document.source,
                    document_id=document.id,
                    document_uri=document.uri,
                    document_hash=document.content_hash,
                    document_modified_at=document.modified_at,
                    title=document.title,
                    section=list(piece.section.path),
                    pages=piece.pages,
                    ordinal=len(chunks),
                    text=piece.body,
                    embed_text=embed_text,
                    text_hash=text_hash,
                    token_count=self.count(embed_text),
                    chunker=self.label,
                )
            )
        return chunks

    def chunk_all(self, documents: Iterable[Document]) -> list[Chunk]:
        """Chunks of many documents."""
        return [c for d in documents for c in self.chunk(d)]

    def _header(self, title: str, path: list[str]) -> str:
        if not self.settings.context_header:
            return ""
        # A document's H1 usually repeats its title; say it once.
        parts = [p for p in [title, *path] if p and p != title] if title else [p for p in path if p]
        parts = [title, *parts] if title else parts
        # Keep dropping the outermost section levels until the header leaves room for text.
        while parts:
            header = HEADER_SEPARATOR.join(parts)
            if self.count(header) + MIN_BODY_TOKENS + 1 <= self.limit:
                return header
            parts = parts[:1] + parts[2:] if len(parts) > 1 else []
        return ""

    def _split_section(self, section: Section, header: str) -> list[tuple[str, int, list[int]]]:
        """(body, offset in the section's text or -1, pages) of each piece of a section."""
        budget = self.limit - (self.count(header) + 1 if header else 0)
        overlap = min(self.settings.chunk_overlap, budget // 2)
        pieces = self._splitter(budget, overlap).split_text(section.text)
        out: list[tuple[str, int, list[int]]] = []
        cursor = 0
        for piece in pieces:
            for body in self._enforce_limit(piece, budget):
                found = section.text.find(body, cursor)
                start = found if found >= 0 else cursor
                out.append((body, found, section.pages_between(start, start + len(body))))
                if found >= 0:
                    cursor = found + 1
        return out

    def _splitter(self, budget: int, overlap: int) -> SentenceSplitter:
        key = (budget, overlap)
        if key not in self._splitters:
            # Imported here: llama-index costs ~1.3 s of CPU to import, and most processes
            # (CLI commands, code servers, build runs) load this module without chunking.
            from llama_index.core.node_parser import SentenceSplitter

            self._splitters[key] = SentenceSplitter(
                chunk_size=budget, chunk_overlap=overlap, tokenizer=self.tokenizer.encode
            )
        return self._splitters[key]

    def _enforce_limit(self, text: str, budget: int) -> list[str]:
        """Cut by tokens in the rare case sentence packing overshoots (e.g. one giant token run)."""
        text = text.strip()
        if not text:
            return []
        ids = self.tokenizer.encode(text)
        if len(ids) <= budget:
            return [text]
        windows = [ids[i : i + budget] for i in range(0, len(ids), budget)]
        return [t for t in (self.tokenizer.decode(w).strip() for w in windows) if t]

"""Chunks: the unit that is embedded, indexed and served."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field


class Chunk(BaseModel):
    """A piece of a document with everything needed to trace it back."""

    id: str = Field(description="sha256 of source, document id, text hash and occurrence.")
    source: str
    document_id: str
    document_uri: str
    document_hash: str
    document_modified_at: str | None = None
    title: str
    section: list[str] = Field(default_factory=list)
    pages: list[int] = Field(default_factory=list)
    ordinal: int = Field(description="Position of the chunk within its document.")
    text: str = Field(description="The chunk's own text, as shown to users.")
    embed_text: str = Field(description="What the model embeds: context header + text.")
    text_hash: str = Field(description="sha256 of embed_text; the embedding cache key.")
    token_count: int
    chunker: str = Field(description="The chunker settings that produced it.")
    injection_signals: list[str] = Field(
        default_factory=list, description="Why the text looks like a prompt injection, if it does."
    )


class Tokenizer(Protocol):
    """The embedding model's tokenizer, as the chunker needs it."""

    max_tokens: int

    def encode(self, text: str) -> list[int]:
        """Token ids without special tokens."""
        ...

    def decode(self, ids: list[int]) -> str:
        """Text for token ids."""
        ...

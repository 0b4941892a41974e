"""Search hits with their provenance."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Hit(BaseModel):
    """A ranked chunk and where it came from."""

    rank: int
    score: float
    chunk_id: str
    text: str
    source: str
    document_id: str
    document_uri: str
    title: str
    section: list[str] = Field(default_factory=list)
    pages: list[int] = Field(default_factory=list)
    index_version: str
    model: str

    @classmethod
    def from_payload(
        cls, rank: int, score: float, payload: dict[str, Any], version: str, model: str
    ) -> Hit:
        """A hit from a stored point payload."""
        return cls(
            rank=rank,
            score=score,
            chunk_id=str(payload["chunk_id"]),
            text=str(payload.get("text", "")),
            source=str(payload.get("source", "")),
            document_id=str(payload.get("document_id", "")),
            document_uri=str(payload.get("document_uri", "")),
            title=str(payload.get("title", "")),
            section=list(payload.get("section") or []),
            pages=list(payload.get("pages") or []),
            index_version=version,
            model=model,
        )


class SearchResponse(BaseModel):
    """Hits from exactly one index version."""

    query: str
    index_version: str
    model: str
    hits: list[Hit]

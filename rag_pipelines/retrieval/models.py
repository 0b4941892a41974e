"""Search requests and hits with their provenance."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from rag_pipelines.config.models import Mode

__all__ = ["Hit", "Mode", "Provenance", "SearchResponse"]


class Provenance(BaseModel):
    """Where a hit comes from: chunk → document → source version → index and model version."""

    source: str
    document_id: str
    document_key: str = Field(description="source/document_id: the id for GET /v1/documents.")
    document_uri: str
    document_hash: str = ""
    document_modified_at: str | None = None
    title: str
    section: list[str] = Field(default_factory=list)
    pages: list[int] = Field(default_factory=list)
    chunk_id: str
    index_version: str
    model_fingerprint: str
    lineage_url: str = Field("", description="GET this for the chunk's full lineage.")


class Hit(BaseModel):
    """A ranked chunk."""

    rank: int
    score: float = Field(description="Rerank score if reranked, else fused or leg score.")
    chunk_id: str
    text: str
    ranks: dict[str, int] = Field(default_factory=dict, description="1-based rank in each leg.")
    rerank_score: float | None = None
    injection_signals: list[str] = Field(
        default_factory=list, description="Non-empty: the text looks like a prompt injection."
    )
    provenance: Provenance

    @classmethod
    def from_payload(
        cls,
        rank: int,
        score: float,
        payload: dict[str, Any],
        version: str,
        model: str,
        ranks: dict[str, int] | None = None,
        rerank_score: float | None = None,
    ) -> Hit:
        """A hit from a stored point payload.

        Built without validation (`model_construct`): every field is converted to its type
        here, from a payload this project wrote, and validating two models per hit cost ~3 µs
        each of a query's hit building.
        """
        source = str(payload.get("source", ""))
        document_id = str(payload.get("document_id", ""))
        modified = payload.get("document_modified_at")
        return cls.model_construct(
            rank=int(rank),
            score=float(score),
            chunk_id=str(payload["chunk_id"]),
            text=str(payload.get("text", "")),
            ranks=ranks or {},
            rerank_score=None if rerank_score is None else float(rerank_score),
            injection_signals=[str(x) for x in payload.get("injection_signals") or []],
            provenance=Provenance.model_construct(
                source=source,
                document_id=document_id,
                document_key=f"{source}/{document_id}",
                document_uri=str(payload.get("document_uri", "")),
                document_hash=str(payload.get("document_hash", "")),
                document_modified_at=None if modified is None else str(modified),
                title=str(payload.get("title", "")),
                section=[str(x) for x in payload.get("section") or []],
                pages=[int(x) for x in payload.get("pages") or []],
                chunk_id=str(payload["chunk_id"]),
                index_version=version,
                model_fingerprint=model,
                lineage_url=f"/v1/chunks/{payload['chunk_id']}/lineage?version={version}",
            ),
        )


class SearchResponse(BaseModel):
    """Hits from exactly one index version."""

    query: str
    mode: Mode
    reranked: bool = False
    index_version: str
    model_fingerprint: str
    took_ms: float = 0.0
    hits: list[Hit]
    offset: int = Field(0, description="Rank of the first hit minus one.")
    next_offset: int | None = Field(None, description="Offset of the next page; None: last page.")

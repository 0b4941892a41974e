"""What a framework document carries from a hit: score, ranks and provenance with lineage links."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, Field

from rag_pipelines.retrieval.models import Hit, Mode


class SearchOptions(BaseModel):
    """The search an adapter runs for each query (see POST /v1/search)."""

    top_k: int = 5
    mode: Mode | None = None
    rerank: bool | None = None
    sources: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, str | int | bool] = Field(default_factory=dict)
    min_score: float | None = None

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for RagClient.search."""
        return self.model_dump()


def hit_metadata(hit: Hit, base_url: str) -> dict[str, Any]:
    """Flat metadata of a hit; lineage_url and document_url are absolute, ready to follow."""
    p = hit.provenance
    base = base_url.rstrip("/")
    return {
        "chunk_id": hit.chunk_id,
        "rank": hit.rank,
        "score": hit.score,
        "ranks": dict(hit.ranks),
        "rerank_score": hit.rerank_score,
        "source": p.source,
        "document_id": p.document_id,
        "document_key": p.document_key,
        "document_uri": p.document_uri,
        "title": p.title,
        "section": list(p.section),
        "pages": list(p.pages),
        "index_version": p.index_version,
        "model_fingerprint": p.model_fingerprint,
        "lineage_url": base + p.lineage_url,
        "document_url": f"{base}/v1/documents/{quote(p.source, safe='')}/{quote(p.document_id)}",
        "injection_signals": list(hit.injection_signals),
    }

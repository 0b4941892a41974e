"""Request and response bodies of the HTTP API (shared with the Python client)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rag_pipelines.index.vector_store import PayloadFilter
from rag_pipelines.retrieval.models import Mode
from rag_pipelines.retrieval.paging import MAX_OFFSET

MAX_QUERY_CHARS = 2000
Name = Annotated[str, Field(min_length=1, max_length=200)]
# A metadata key becomes part of a Qdrant payload path: no dots, brackets or quotes in it.
MetadataKey = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")]
MetadataValue = Annotated[str, Field(max_length=500)] | int | bool
# Requests that work as they stand against the example pipeline (sources.yaml): Swagger UI's
# "Try it out" starts from one of these, where a generated body ("mode": "string") was a 422.
SEARCH_EXAMPLES: dict[str, dict[str, Any]] = {
    "default": {
        "summary": "The pipeline's default mode",
        "value": {"query": "How many days a week can I work from home?", "top_k": 5},
    },
    "filtered": {
        "summary": "Hybrid, one source and tag",
        "value": {
            "query": "travel expenses reimbursement",
            "top_k": 5,
            "mode": "hybrid",
            "filters": {"sources": ["policies"], "tags": ["policy"]},
        },
    },
    "bm25": {
        "summary": "Keywords only, second page",
        "value": {"query": "laptop support ticket", "top_k": 3, "mode": "bm25", "offset": 3},
    },
    "dense": {
        "summary": "Dense only, weak hits dropped",
        "value": {"query": "password rules", "top_k": 10, "mode": "dense", "min_score": 0.2},
    },
}
FEEDBACK_EXAMPLES: dict[str, dict[str, Any]] = {
    "useful": {
        "summary": "A hit was useful (chunk_id: a hit's chunk_id from /v1/search)",
        "value": {
            "query": "How many days a week can I work from home?",
            "chunk_id": "0123456789abcdef0123456789abcdef",
            "useful": True,
            "note": "answered the question",
        },
    }
}


def example_values(examples: dict[str, dict[str, Any]]) -> list[Any]:
    """The bodies of named OpenAPI examples, for a model's JSON schema."""
    return [e["value"] for e in examples.values()]


class Filters(BaseModel):
    """Restrict results: any of these sources, any of these tags, all of these metadata values."""

    model_config = ConfigDict(extra="forbid")

    sources: list[Name] = Field(default_factory=list, max_length=50)
    tags: list[Name] = Field(default_factory=list, max_length=50)
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict, max_length=20)

    def to_payload_filter(self) -> PayloadFilter:
        """The store-level filter."""
        return PayloadFilter(tuple(self.sources), tuple(self.tags), dict(self.metadata))


class SearchRequest(BaseModel):
    """POST /v1/search."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": example_values(SEARCH_EXAMPLES)}
    )

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    top_k: int = Field(10, ge=1, le=100, description="Hits per page.")
    offset: int = Field(
        0, ge=0, le=MAX_OFFSET, description="Skip this many hits (next_offset; none past the last)."
    )
    min_score: float | None = Field(
        None,
        description="Drop hits scoring below this. Scores are on the mode's scale: cosine for "
        "dense, BM25 for bm25, RRF (about 1/(60 + rank) per leg) for hybrid, the cross-encoder's "
        "logit when reranked.",
    )
    mode: Mode | None = Field(None, description="Default: retrieval.default_mode of the pipeline.")
    rerank: bool | None = Field(None, description="Default: retrieval.rerank.enabled.")
    filters: Filters = Field(default_factory=Filters)

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("query must contain more than whitespace")
        return value


class FeedbackRequest(BaseModel):
    """POST /v1/feedback: was this hit useful for this query?"""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": example_values(FEEDBACK_EXAMPLES)}
    )

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    chunk_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    useful: bool
    note: str | None = Field(None, max_length=2000)


class ChunkRef(BaseModel):
    """A chunk of a document, without its text."""

    chunk_id: str
    ordinal: int
    section: list[str]
    pages: list[int]
    token_count: int


class DocumentResponse(BaseModel):
    """GET /v1/documents/{source}/{document_id}: a document of the published version."""

    document_key: str
    source: str
    document_id: str
    title: str
    uri: str
    content_hash: str
    modified_at: str | None
    element_types: list[str]
    pages: list[int]
    links: list[str]
    sections: list[dict[str, Any]]
    chunks: list[ChunkRef]
    index_version: str


class IndexResponse(BaseModel):
    """GET /v1/index: the published version's manifest and pointer."""

    version: str
    published_at: str
    previous: str | None
    staleness: dict[str, float] = Field(
        default_factory=dict, description="Source change → servable for the last publish (s)."
    )
    manifest: dict[str, Any]


class ErrorResponse(BaseModel):
    """Every error: a code, a message for humans, field details for 422s, and the request id."""

    error: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)
    request_id: str | None = Field(None, description="Also in X-Request-ID; quote it to operators.")

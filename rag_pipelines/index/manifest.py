"""The manifest of an index version: what it contains and how it was made."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from rag_pipelines.embedding.fingerprint import ModelFingerprint


class SourceSummary(BaseModel):
    """One source's part of a build."""

    documents: int
    chunks: int
    failures: int = 0
    content_hash: str = Field(
        description="sha256 over the source's (document id, content hash) pairs."
    )
    chunking: dict[str, Any] = Field(default_factory=dict)
    chunker: str = ""


class GenerationRecord(BaseModel):
    """Where a version built with `versioning: generation` lives in its generation collections."""

    sequence: int = Field(description="This version's number: its points have valid_from <= it.")
    dense_key: str = Field(description="Model and chunker the dense generation is keyed by.")
    bm25_key: str = Field(description="Tokenizer, BM25 parameters and chunker of the BM25 one.")
    bm25_avgdl: float = Field(description="Mean chunk length frozen in the BM25 generation.")


class BuildManifest(BaseModel):
    """Written last when a build completes: a version without one is incomplete."""

    version: str
    pipeline: str
    created_at: str
    completed_at: str = ""
    build_seconds: float = 0.0
    store_kind: str
    collection: str = Field(description="Dense vectors (Qdrant collection or Edge shard).")
    bm25_collection: str = Field("", description="BM25 sparse vectors.")
    model_ref: str
    model: ModelFingerprint
    sources: dict[str, SourceSummary]
    documents: int
    chunks: int
    vectors: int
    bm25_points: int = 0
    graph_chunks: int = 0
    graph: dict[str, Any] = Field(default_factory=dict, description="Node and edge counts.")
    settings: dict[str, Any] = Field(default_factory=dict, description="BM25/graph/store settings.")
    retrieval: dict[str, Any] = Field(
        default_factory=dict, description="Fusion and rerank settings this version serves with."
    )
    content_hash: str = Field(description="sha256 over chunk ids, text hashes, model, settings.")
    run_id: str = Field("", description="The orchestrator (Dagster) run that completed it.")
    generation: GenerationRecord | None = Field(
        None, description="Generation versioning; None: collections of this version alone."
    )

    @property
    def model_key(self) -> str:
        """The model fingerprint's short key."""
        return self.model.key


class CheckRecord(BaseModel):
    """A blocking check's verdict on a version, kept beside its manifest."""

    name: str
    passed: bool
    detail: str = ""
    checked_at: str


class Pin(BaseModel):
    """A rollback's hold on the served version: builds go on, publishing waits."""

    pinned_at: str
    config: str = Field(description="The version-shaping config's fingerprint when pinned.")
    reason: str = "rollback"


class LivePointer(BaseModel):
    """Which version is published (LIVE.json, replaced atomically)."""

    version: str
    published_at: str
    previous: str | None = None
    staleness: dict[str, float] = Field(
        default_factory=dict, description="Source change → servable, for this publish."
    )
    rollback: bool = False
    run_id: str = Field("", description="The orchestrator (Dagster) run that published it.")
    pin: Pin | None = Field(
        None,
        description="Set by rollback: nothing is published past it until unpin or a config change.",
    )

"""sources.yaml's retrieval settings: the legs' modes and weights, fusion, reranking, BM25 PRF."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from rag_pipelines.config.base import ExistingFile, StrictModel
from rag_pipelines.config.legs import check_leg, check_mode, mode_names
from rag_pipelines.config.legs import default_weights as leg_weights
from rag_pipelines.config.rerankers import DEFAULT_KIND, check_reranker_kind


def _known_leg(name: str) -> str:
    return check_leg(name)


def _known_mode(name: str) -> str:
    return check_mode(name)


def _known_reranker(kind: str) -> str:
    return check_reranker_kind(kind)


def all_modes() -> list[str]:
    """Every retrieval mode: each registered leg, and hybrid."""

    return list(mode_names())


def default_weights() -> dict[str, float]:
    """Each registered leg's default fusion weight."""

    return leg_weights()


Leg = Annotated[str, AfterValidator(_known_leg)]
Mode = Annotated[str, AfterValidator(_known_mode)]  # a leg's name, or "hybrid"
RerankerKind = Annotated[str, AfterValidator(_known_reranker)]


class FusionSettings(StrictModel):
    """Fusion of the retrieval legs: reciprocal ranks (default) or normalised scores."""

    k: int = Field(60, ge=1, description="RRF constant: score = weight / (k + rank).")
    weights: dict[Leg, float] = Field(
        default_factory=default_weights, description="Fusion weight per leg (dense, bm25, graph)."
    )
    candidates: int = Field(100, ge=10, le=1000, description="Hits taken from each leg.")
    method: Literal["rrf", "minmax"] = Field(
        "rrf",
        description="rrf: weighted reciprocal ranks; minmax: documents by the weighted sum of "
        "each leg's min-max normalised best-chunk score over its top 100 documents.",
    )
    aggregate: Literal["chunk", "max", "sum", "rrf"] = Field(
        "chunk",
        description="chunk: fuse chunk rankings (a document ranks by its best fused chunk); "
        "max/sum/rrf: each leg first ranks documents by its best chunk, the sum of its top "
        "chunks' scores, or their reciprocal ranks, then the document rankings are fused.",
    )
    aggregate_top: int = Field(2, ge=1, le=20, description="Chunks per document for sum/rrf.")


class RerankSettings(StrictModel):
    """Reranking of the fused top-N: a cross-encoder (default) or late interaction."""

    kind: RerankerKind = Field(
        DEFAULT_KIND,
        description="cross-encoder: a (trained or configured) CrossEncoder; late-interaction: "
        "MaxSim over the token vectors of `model`, or of the version's own embedding model "
        "when null (no training).",
    )
    enabled: bool | None = Field(
        None,
        description="Rerank when a request does not say; null = only if the reranker beat "
        "hybrid retrieval on the held-back queries.",
    )
    model: str | None = Field(
        None,
        description="HF id or local folder; null = the model the reranker asset trains "
        "(late-interaction: the version's embedding model).",
    )
    top_n: int = Field(30, ge=1, le=200, description="Fused candidates the reranker scores.")
    blend: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Weight of the reranker's order when fused (RRF) with the first-stage order; "
        "1 = the reranker's order alone.",
    )
    batch_size: int = Field(16, ge=1, le=512, description="Pairs scored per batch.")
    budget_ms: int = Field(2000, ge=10, description="Stop scoring when over budget; keep order.")
    train: RerankTrainSettings | None = Field(
        None, description="Train a cross-encoder on judged pairs (optional)."
    )


class RerankTrainSettings(StrictModel):
    """Train a cross-encoder from judged pairs (BEIR qrels) when no pretrained one is available."""

    queries: ExistingFile = Field(description="BEIR queries.jsonl to train on.")
    qrels: ExistingFile = Field(description="BEIR qrels .tsv naming the relevant documents.")
    source: str | None = Field(None, description="The source whose document ids the qrels use.")
    max_queries: int | None = Field(None, ge=1, description="Train on at most N queries.")
    holdout_fraction: float = Field(
        0.3, gt=0, lt=1, description="Share held back to judge the trained reranker."
    )
    negatives_per_query: int = Field(
        7, ge=1, le=50, description="Hard negatives mined per query (BM25 and dense)."
    )
    epochs: int = Field(2, ge=1, le=20, description="Passes over the training pairs.")
    batch_size: int = Field(16, ge=1, le=256, description="Pairs per batch.")
    max_length: int = Field(256, ge=32, le=512, description="Tokens per (query, passage) pair.")
    learning_rate: float = Field(
        3e-5, gt=0, lt=1, description="Learning rate of the pretrained encoder."
    )
    seed: int = Field(13, description="Seed of the split and the training order.")


class PrfSettings(StrictModel):
    """RM3 pseudo-relevance feedback for the BM25 leg: re-query with terms of the top hits."""

    enabled: bool = Field(False, description="Re-query BM25 with RM3 expansion terms.")
    fb_docs: int = Field(10, ge=1, le=100, description="Top first-pass chunks read for terms.")
    fb_terms: int = Field(10, ge=1, le=200, description="Expansion terms kept.")
    original_weight: float = Field(
        0.5, ge=0, le=1, description="Share of the original query in the expanded one."
    )


class Bm25QuerySettings(StrictModel):
    """Query-side options of the BM25 leg (the index side is `index.bm25`)."""

    prf: PrfSettings = Field(default_factory=lambda: PrfSettings())


class RetrievalSettings(StrictModel):
    """How the service retrieves: fusion of legs, then optional reranking."""

    default_mode: Mode = Field("hybrid", description="The mode a search uses when it names none.")
    bm25: Bm25QuerySettings = Field(default_factory=lambda: Bm25QuerySettings())
    fusion: FusionSettings = Field(default_factory=lambda: FusionSettings())
    rerank: RerankSettings = Field(default_factory=lambda: RerankSettings())

"""The pydantic models of sources.yaml: the one declarative input, validated at load."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    SerializeAsAny,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rag_pipelines.config.access import AccessSettings, ServiceSettings
from rag_pipelines.config.base import StrictModel, resolve_path
from rag_pipelines.config.connectors import ConnectorSettings, validate_connector
from rag_pipelines.config.devices import Devices
from rag_pipelines.config.legs import check_leg, check_mode, mode_names
from rag_pipelines.config.legs import default_weights as leg_weights
from rag_pipelines.config.qdrant import QdrantClusterSettings, check_cluster_backend
from rag_pipelines.config.state import StateSettings

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
BUNDLED_MODELS = {"bundled:all-MiniLM-L6-v2"}
DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")


def looks_like_path(ref: str) -> bool:
    """True when a model reference names a directory rather than a Hugging Face id."""
    return ref.startswith(("/", "./", "../", "~")) or ref in (".", "..")


class ChunkingSettings(StrictModel):
    """How documents are cut into chunks; sizes count tokens of the embedding model."""

    chunk_size: int = Field(200, ge=16, le=8192)
    chunk_overlap: int = Field(30, ge=0)
    context_header: bool = Field(
        True, description="Prefix each chunk's embedded text with its title and section path."
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingSettings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than "
                f"chunk_size ({self.chunk_size})"
            )
        return self


class ContentSafetySettings(StrictModel):
    """Personal-data redaction and prompt-injection flagging at ingestion."""

    redact_pii: bool = False
    id_patterns: dict[str, str] = Field(
        default_factory=lambda: {"ssn_us": r"\b\d{3}-\d{2}-\d{4}\b"},
        description="National-id patterns (regex) redacted as [ID_<NAME>].",
    )
    flag_injection: bool = True

    @field_validator("id_patterns")
    @classmethod
    def _compiles(cls, value: dict[str, str]) -> dict[str, str]:
        for name, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"id pattern {name!r} is not a valid regex: {exc}") from None
        return value


class FreshnessSettings(StrictModel):
    """How stale a source may get before its freshness check fails."""

    max_lag_hours: float = Field(24.0, gt=0)


class ScheduleSettings(StrictModel):
    """The nightly refresh of every source."""

    cron: str = Field("0 2 * * *", pattern=r"^\S+( \S+){4}$")
    timezone: str = "UTC"
    enabled: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)"
            ) from None
        return value


class SensorSettings(StrictModel):
    """How often the sensors look for changed sources and a changed model."""

    source_change_interval_s: int = Field(60, ge=5)
    model_change_interval_s: int = Field(300, ge=5)
    index_refresh_interval_s: int = Field(30, ge=5)


class SourceConfig(StrictModel):
    """One document source: where documents come from and how they are chunked."""

    name: str = Field(pattern=NAME_PATTERN, max_length=48)
    shards: int = Field(
        1, ge=1, le=1024, description="Ingest, chunk and embed as N partitions (by document id)."
    )
    connector: SerializeAsAny[ConnectorSettings] = Field(
        description="Where documents come from; `type` picks the connector (see the registry)."
    )
    chunking: ChunkingSettings | None = None
    freshness: FreshnessSettings | None = None
    content_safety: ContentSafetySettings | None = None
    owner: str | None = None
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, str | int | float | bool] = Field(default_factory=dict)
    access: AccessSettings = Field(default_factory=lambda: AccessSettings())

    @field_validator("connector", mode="before")
    @classmethod
    def _dispatch(cls, value: Any, info: ValidationInfo) -> Any:
        return validate_connector(value, info)


class EmbeddingSettings(StrictModel):
    """The embedding model (Hugging Face id, local path, or bundled) and how it runs."""

    model: str = DEFAULT_MODEL
    revision: str | None = None
    device: str = Field("auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")
    devices: Devices = Field(
        None, description="Embed on several devices at once (auto, or [cuda:0, cuda:1])."
    )
    precision: Literal["auto", "fp32", "fp16"] = "auto"
    backend: Literal["auto", "torch", "onnx", "onnx-int8"] = Field(
        "auto",
        description="auto: ONNX Runtime on CPU, torch on CUDA/MPS. onnx-int8 is a new model"
        " version (its vectors differ): it is re-embedded and gated like any model change.",
    )
    batch_size: int = Field(64, ge=1, le=4096)
    normalize: bool = True
    finetune: EmbeddingFinetuneSettings | None = Field(
        None, description="Adds the embedding_finetune asset (see README, Fine-tuning)."
    )

    @field_validator("model")
    @classmethod
    def _model_reference(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if value.startswith("bundled:"):
            if value not in BUNDLED_MODELS:
                raise ValueError(
                    f"unknown bundled model {value!r}; known: {sorted(BUNDLED_MODELS)}"
                )
            return value
        if looks_like_path(value):
            path = resolve_path(Path(value), info)
            if not path.is_dir():
                raise ValueError(f"model directory does not exist: {path}")
            if not any((path / f).is_file() for f in ("modules.json", "config.json")):
                raise ValueError(f"{path} is not a sentence-transformers model folder")
            return str(path)
        if not _HF_ID.match(value):
            raise ValueError(
                f"{value!r} is neither a Hugging Face model id (org/name), "
                "a local path (starting with ./, ../, / or ~) nor bundled:all-MiniLM-L6-v2"
            )
        return value


class QdrantSettings(StrictModel):
    """Where vectors live: embedded Qdrant Edge, a Qdrant server, or qdrant-client local mode."""

    backend: Literal["edge", "server", "local"] | None = None
    url: str | None = None
    api_key_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    collection_prefix: str = Field("rag", pattern=r"^[a-z][a-z0-9_-]*$")
    timeout_s: float = Field(30.0, gt=0)
    cluster: QdrantClusterSettings | None = Field(
        None, description="Shards, replicas, on-disk storage, quantization, HNSW, upload."
    )
    versioning: Literal["copy", "generation"] = Field(
        "copy",
        description="copy: one collection per version; generation: one per (model, chunker, "
        "BM25 statistics), updated in place, points valid from/to a version (client backends).",
    )
    generation_avgdl_drift: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Start a new BM25 generation when the mean chunk length moves by more "
        "than this fraction from the one frozen in the current generation.",
    )

    @model_validator(mode="before")
    @classmethod
    def _infer_backend(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("backend") is None:
            data = {**data, "backend": "server" if data.get("url") else "edge"}
        return data

    @model_validator(mode="after")
    def _url_for_server(self) -> QdrantSettings:
        if self.backend == "server" and not self.url:
            raise ValueError("backend 'server' needs url: (e.g. http://localhost:6333)")
        if self.backend != "server" and self.url:
            raise ValueError(f"url is only used with backend 'server', not {self.backend!r}")
        check_cluster_backend(self.backend, self.cluster)
        if self.versioning == "generation" and self.backend == "edge":
            raise ValueError(
                "versioning: generation needs a qdrant-client backend (url: for a server, or "
                "backend: local); the embedded Edge store keeps one shard per version (copy)"
            )
        return self


class Bm25Settings(StrictModel):
    """Keyword index: BM25 (Okapi) parameters and its tokenizer."""

    k1: float = Field(1.5, ge=0)
    b: float = Field(0.75, ge=0, le=1)
    epsilon: float = Field(0.25, ge=0, description="idf floor factor, as rank_bm25.BM25Okapi")
    lowercase: bool = True
    stopwords: Literal["english", "none"] | list[str] = "english"
    stemmer: Literal["snowball", "none"] = "snowball"
    min_token_len: int = Field(1, ge=1)


class GraphSettings(StrictModel):
    """Knowledge graph: key phrases per chunk and how far retrieval walks."""

    max_phrases_per_chunk: int = Field(8, ge=1, le=64)
    max_phrase_words: int = Field(3, ge=1, le=6)
    min_phrase_chunks: int = Field(2, ge=1, description="Keep phrases seen in at least N chunks.")
    max_phrase_fraction: float = Field(
        0.02, gt=0, le=1, description="Drop phrases in more than this fraction of chunks."
    )
    walk_steps: int = Field(3, ge=1, le=6)
    restart: float = Field(0.3, gt=0, lt=1, description="Restart probability of the walk.")
    seed_hits: int = Field(5, ge=0, le=50, description="Top dense/BM25 hits used as seeds.")


class IndexSettings(StrictModel):
    """Index storage, the BM25 and graph indexes, and version retention."""

    qdrant: QdrantSettings = Field(default_factory=lambda: QdrantSettings.model_validate({}))
    bm25: Bm25Settings = Field(default_factory=lambda: Bm25Settings())
    graph: GraphSettings = Field(default_factory=lambda: GraphSettings())
    retention: int = Field(5, ge=1, description="Published versions kept for rollback.")


def _known_leg(name: str) -> str:
    return check_leg(name)


def _known_mode(name: str) -> str:
    return check_mode(name)


def all_modes() -> list[str]:
    """Every retrieval mode: each registered leg, and hybrid."""

    return list(mode_names())


def default_weights() -> dict[str, float]:
    """Each registered leg's default fusion weight."""

    return leg_weights()


Leg = Annotated[str, AfterValidator(_known_leg)]
Mode = Annotated[str, AfterValidator(_known_mode)]  # a leg's name, or "hybrid"


class FusionSettings(StrictModel):
    """Fusion of the retrieval legs: reciprocal ranks (default) or normalised scores."""

    k: int = Field(60, ge=1)
    weights: dict[Leg, float] = Field(default_factory=default_weights)
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
    """Cross-encoder reranking of the fused top-N."""

    enabled: bool | None = Field(
        None,
        description="Rerank when a request does not say; null = only if the reranker beat "
        "hybrid retrieval on the held-back queries.",
    )
    model: str | None = Field(
        None, description="HF id or local folder; null = the model the reranker asset trains."
    )
    top_n: int = Field(30, ge=1, le=200)
    blend: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Weight of the reranker's order when fused (RRF) with the first-stage order; "
        "1 = the reranker's order alone.",
    )
    batch_size: int = Field(16, ge=1, le=512)
    budget_ms: int = Field(2000, ge=10, description="Stop scoring when over budget; keep order.")
    train: RerankTrainSettings | None = None


class RerankTrainSettings(StrictModel):
    """Train a cross-encoder from judged pairs (BEIR qrels) when no pretrained one is available."""

    queries: Path
    qrels: Path
    source: str | None = Field(None, description="The source whose document ids the qrels use.")
    max_queries: int | None = Field(None, ge=1, description="Train on at most N queries.")
    holdout_fraction: float = Field(0.3, gt=0, lt=1)
    negatives_per_query: int = Field(7, ge=1, le=50)
    epochs: int = Field(2, ge=1, le=20)
    batch_size: int = Field(16, ge=1, le=256)
    max_length: int = Field(256, ge=32, le=512)
    learning_rate: float = Field(3e-5, gt=0, lt=1)
    seed: int = 13

    @field_validator("queries", "qrels")
    @classmethod
    def _exists(cls, value: Path, info: ValidationInfo) -> Path:
        path = resolve_path(value, info)
        if not path.is_file():
            raise ValueError(f"file does not exist: {path}")
        return path


class EvalSetSettings(StrictModel):
    """A golden set: BEIR-format queries and judgements over one source's document ids."""

    name: str = Field(pattern=NAME_PATTERN)
    queries: Path
    qrels: Path
    source: str | None = Field(None, description="The source whose document ids the qrels use.")
    max_queries: int | None = Field(None, ge=1, description="Evaluate at most N queries.")
    holdout_fraction: float = Field(0.3, gt=0, lt=1)
    seed: int = 13

    @field_validator("queries", "qrels")
    @classmethod
    def _exists(cls, value: Path, info: ValidationInfo) -> Path:
        path = resolve_path(value, info)
        if not path.is_file():
            raise ValueError(f"file does not exist: {path}")
        return path


class EmbeddingFinetuneSettings(StrictModel):
    """Fine-tune the embedding model on judged pairs (in-batch negatives), judged on held-back."""

    queries: Path
    qrels: Path
    source: str | None = Field(None, description="The source whose document ids the qrels use.")
    output: str = Field("finetuned", pattern=NAME_PATTERN, description="<data_dir>/models/<output>")
    max_queries: int | None = Field(None, ge=1, description="Train on at most N queries.")
    holdout_fraction: float = Field(0.3, gt=0, lt=1)
    epochs: int = Field(1, ge=1, le=20)
    batch_size: int = Field(32, ge=2, le=512)
    max_seq_length: int = Field(256, ge=16, le=512)
    learning_rate: float = Field(2e-5, gt=0, lt=1)
    seed: int = 13
    hard_negatives: bool = Field(
        False,
        description="Give each pair a hard negative: a chunk of an unjudged document from the "
        "live version's hybrid top 30 (below its first 2 hits). Needs a published version.",
    )

    @field_validator("queries", "qrels")
    @classmethod
    def _exists(cls, value: Path, info: ValidationInfo) -> Path:
        path = resolve_path(value, info)
        if not path.is_file():
            raise ValueError(f"file does not exist: {path}")
        return path


class ExperimentVariant(StrictModel):
    """One experiment: the pipeline with some settings replaced, built as its own version.

    Only the keys written here override (every source's chunking, the embedding model, fusion).
    """

    name: str = Field(pattern=NAME_PATTERN, max_length=24)
    chunking: ChunkingSettings | None = None
    embedding: EmbeddingSettings | None = None
    fusion: FusionSettings | None = None


class QualityGate(StrictModel):
    """When a candidate version may replace the live one."""

    mode: Mode = "hybrid"
    metric: Literal["ndcg@10", "recall@10", "recall@100", "mrr@10"] = "ndcg@10"
    floor: float = Field(0.0, ge=0, le=1, description="Block below this absolute value.")
    max_regression: float = Field(
        0.02, ge=0, le=1, description="Block if worse than the live version by more than this."
    )


class EvaluationSettings(StrictModel):
    """Golden sets and the quality bar that gates publishing."""

    sets: list[EvalSetSettings] = Field(default_factory=list)
    modes: list[Mode] = Field(default_factory=all_modes)
    gate: QualityGate = Field(default_factory=lambda: QualityGate())
    tune_fusion: bool = Field(False, description="Tune fusion weights and k on the tuning part.")
    tune_fusion_method: bool = Field(
        False,
        description="With tune_fusion: also try the other fusion.method (rrf / minmax) and "
        "serve whichever scores best on the tuning part.",
    )
    learn_query_weights: bool = Field(
        False,
        description="With tune_fusion: fit a per-query dense/BM25 weight on the tuning part; "
        "served only if it beats the tuned constant weights in cross-validation.",
    )
    use_feedback: bool = Field(True, description="Turn service feedback into a golden set.")
    experiments: list[ExperimentVariant] = Field(
        default_factory=list, description="Variants the experiments asset builds and compares."
    )

    @field_validator("experiments")
    @classmethod
    def _unique_variants(cls, value: list[ExperimentVariant]) -> list[ExperimentVariant]:
        names = [v.name for v in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"experiment names must be unique; used twice: {twice}")
        return value


class PrfSettings(StrictModel):
    """RM3 pseudo-relevance feedback for the BM25 leg: re-query with terms of the top hits."""

    enabled: bool = False
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

    default_mode: Mode = "hybrid"
    bm25: Bm25QuerySettings = Field(default_factory=lambda: Bm25QuerySettings())
    fusion: FusionSettings = Field(default_factory=lambda: FusionSettings())
    rerank: RerankSettings = Field(default_factory=lambda: RerankSettings())


class PipelineSettings(StrictModel):
    """Pipeline identity and where its state lives."""

    name: str = Field("default", pattern=NAME_PATTERN, max_length=48)
    data_dir: Path = Field(Path(".rag"), validate_default=True)
    schedule: ScheduleSettings = Field(default_factory=lambda: ScheduleSettings())
    sensors: SensorSettings = Field(default_factory=lambda: SensorSettings())
    state: StateSettings = Field(
        default_factory=lambda: StateSettings(),
        description="Shared state for a cluster (object store + metadata DB); default: data_dir.",
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path, info: ValidationInfo) -> Path:
        return resolve_path(value, info)


class Defaults(StrictModel):
    """Settings a source inherits unless it sets its own."""

    chunking: ChunkingSettings = Field(default_factory=lambda: ChunkingSettings())
    freshness: FreshnessSettings = Field(default_factory=lambda: FreshnessSettings())
    content_safety: ContentSafetySettings = Field(default_factory=lambda: ContentSafetySettings())


class SourcesFile(StrictModel):
    """A whole sources.yaml."""

    version: Literal[1] = 1
    pipeline: PipelineSettings = Field(default_factory=lambda: PipelineSettings())
    embedding: EmbeddingSettings = Field(default_factory=lambda: EmbeddingSettings())
    index: IndexSettings = Field(default_factory=lambda: IndexSettings())
    retrieval: RetrievalSettings = Field(default_factory=lambda: RetrievalSettings())
    evaluation: EvaluationSettings = Field(default_factory=lambda: EvaluationSettings())
    defaults: Defaults = Field(default_factory=lambda: Defaults())
    service: ServiceSettings = Field(default_factory=lambda: ServiceSettings())
    sources: list[SourceConfig] = Field(min_length=1)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        seen: dict[str, int] = {}
        for i, source in enumerate(sources, start=1):
            if source.name in seen:
                raise ValueError(
                    f"source name {source.name!r} is used twice (source #{seen[source.name]} "
                    f"and #{i}); names must be unique"
                )
            seen[source.name] = i
        return sources

    @model_validator(mode="after")
    def _shared_state_store(self) -> SourcesFile:
        if self.pipeline.state.url is not None and self.index.qdrant.backend == "local":
            raise ValueError(
                "pipeline.state.url: qdrant-client local mode keeps every version in one folder "
                "of this machine, which cannot be shared; use index.qdrant.backend edge (shards "
                "travel with their version) or server"
            )
        return self

    def source(self, name: str) -> SourceConfig:
        """The source called `name` (KeyError names the known ones)."""
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(f"no source {name!r}; sources are {[s.name for s in self.sources]}")

    def chunking_for(self, source: SourceConfig) -> ChunkingSettings:
        """The source's chunking settings, or the defaults."""
        return source.chunking or self.defaults.chunking

    def safety_for(self, source: SourceConfig) -> ContentSafetySettings:
        """The source's content-safety settings, or the defaults."""
        return source.content_safety or self.defaults.content_safety

    def freshness_for(self, source: SourceConfig) -> FreshnessSettings:
        """The source's freshness bar, or the default."""
        return source.freshness or self.defaults.freshness

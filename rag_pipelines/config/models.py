"""The pydantic models of sources.yaml: the one declarative input, validated at load."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    SerializeAsAny,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rag_pipelines.config.access import AccessSettings, ServiceSettings
from rag_pipelines.config.base import NAME_PATTERN as NAME_PATTERN
from rag_pipelines.config.base import StrictModel, resolve_path
from rag_pipelines.config.connectors import ConnectorSettings, validate_connector
from rag_pipelines.config.devices import Devices
from rag_pipelines.config.evaluation import (
    EmbeddingFinetuneSettings as EmbeddingFinetuneSettings,
)
from rag_pipelines.config.evaluation import (
    EvalSetSettings as EvalSetSettings,
)
from rag_pipelines.config.evaluation import (
    QualityGate as QualityGate,
)
from rag_pipelines.config.qdrant import QdrantSettings as QdrantSettings
from rag_pipelines.config.retrieval import (
    Bm25QuerySettings as Bm25QuerySettings,
)
from rag_pipelines.config.retrieval import (
    FusionSettings as FusionSettings,
)
from rag_pipelines.config.retrieval import (
    Leg as Leg,
)
from rag_pipelines.config.retrieval import (
    Mode as Mode,
)
from rag_pipelines.config.retrieval import (
    PrfSettings as PrfSettings,
)
from rag_pipelines.config.retrieval import (
    RerankSettings as RerankSettings,
)
from rag_pipelines.config.retrieval import (
    RerankTrainSettings as RerankTrainSettings,
)
from rag_pipelines.config.retrieval import (
    RetrievalSettings as RetrievalSettings,
)
from rag_pipelines.config.retrieval import (
    all_modes as all_modes,
)
from rag_pipelines.config.retrieval import (
    default_weights as default_weights,
)
from rag_pipelines.config.state import StateSettings

BUNDLED_MODELS = {"bundled:all-MiniLM-L6-v2"}
DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")


def looks_like_path(ref: str) -> bool:
    """True when a model reference names a directory rather than a Hugging Face id."""
    return ref.startswith(("/", "./", "../", "~")) or ref in (".", "..")


class ChunkingSettings(StrictModel):
    """How documents are cut into chunks; sizes count tokens of the embedding model."""

    chunk_size: int = Field(
        200, ge=16, le=8192, description="Chunk size in tokens of the embedding model."
    )
    chunk_overlap: int = Field(
        30, ge=0, description="Tokens shared by consecutive chunks (below chunk_size)."
    )
    context_header: bool = Field(
        True, description="Prefix each chunk's embedded text with its title and section path."
    )
    min_chunk_tokens: int = Field(
        20,
        ge=0,
        description=(
            "A chunk whose own text (context header not counted) has fewer tokens merges into a "
            "neighbour of its document (its own section first) or is dropped; at most a quarter "
            "of chunk_size counts; 0 keeps every chunk."
        ),
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

    redact_pii: bool = Field(
        False, description="Redact e-mail addresses, phone numbers and id_patterns."
    )
    id_patterns: dict[str, str] = Field(
        default_factory=lambda: {"ssn_us": r"\b\d{3}-\d{2}-\d{4}\b"},
        description="National-id patterns (regex) redacted as [ID_<NAME>].",
    )
    flag_injection: bool = Field(True, description="Flag chunks that look like prompt injection.")

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

    max_lag_hours: float = Field(
        24.0, gt=0, description="Hours a source may go without a successful ingest."
    )


class ScheduleSettings(StrictModel):
    """The nightly refresh of every source."""

    cron: str = Field(
        "0 2 * * *",
        pattern=r"^\S+( \S+){4}$",
        description="When the nightly refresh re-ingests every source (cron, 5 fields).",
    )
    timezone: str = Field("UTC", description="IANA time zone the cron is read in.")
    enabled: bool = Field(True, description="false: no nightly refresh (sensors still run).")

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

    source_change_interval_s: int = Field(
        60, ge=5, description="Seconds between looks for changed source files."
    )
    model_change_interval_s: int = Field(
        300, ge=5, description="Seconds between checks for a changed model identity."
    )
    index_refresh_interval_s: int = Field(
        30, ge=5, description="Seconds between checks for embeddings to publish."
    )


class SourceConfig(StrictModel):
    """One document source: where documents come from and how they are chunked."""

    name: str = Field(
        pattern=NAME_PATTERN,
        max_length=48,
        description="The source's name: its Dagster partition key and folder.",
    )
    shards: int = Field(
        1, ge=1, le=1024, description="Ingest, chunk and embed as N partitions (by document id)."
    )
    connector: SerializeAsAny[ConnectorSettings] = Field(
        description="Where documents come from; `type` picks the connector (see the registry)."
    )
    chunking: ChunkingSettings | None = None
    freshness: FreshnessSettings | None = None
    content_safety: ContentSafetySettings | None = None
    owner: str | None = Field(None, description="Who owns the source (shown in the UI).")
    tags: list[str] = Field(
        default_factory=list,
        description="Tags copied into every chunk's payload; filterable in search.",
    )
    metadata: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="Key/value pairs copied into every chunk's payload; filterable.",
    )
    access: AccessSettings = Field(default_factory=lambda: AccessSettings())

    @field_validator("connector", mode="before")
    @classmethod
    def _dispatch(cls, value: Any, info: ValidationInfo) -> Any:
        return validate_connector(value, info)


class EmbeddingSettings(StrictModel):
    """The embedding model (Hugging Face id, local path, or bundled) and how it runs."""

    model: str = Field(
        DEFAULT_MODEL, description="bundled:all-MiniLM-L6-v2, a Hugging Face id, or a model folder."
    )
    revision: str | None = Field(
        None, description="Hugging Face revision (commit, tag, branch) of a hub model."
    )
    device: str = Field(
        "auto",
        pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$",
        description="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps.",
    )
    devices: Devices = Field(
        None, description="Embed on several devices at once (auto, or [cuda:0, cuda:1])."
    )
    precision: Literal["auto", "fp32", "fp16"] = Field(
        "auto", description="auto: fp16 on CUDA, fp32 elsewhere."
    )
    backend: Literal["auto", "torch", "onnx", "onnx-int8"] = Field(
        "auto",
        description="auto: ONNX Runtime on CPU, torch on CUDA/MPS. onnx-int8 is a new model"
        " version (its vectors differ): it is re-embedded and gated like any model change.",
    )
    batch_size: int = Field(64, ge=1, le=4096, description="Texts encoded per batch.")
    normalize: bool = Field(True, description="L2-normalise vectors (cosine = dot product).")
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


class Bm25Settings(StrictModel):
    """Keyword index: BM25 (Okapi) parameters and its tokenizer."""

    k1: float = Field(1.5, ge=0, description="Term-frequency saturation (Okapi k1).")
    b: float = Field(
        0.75, ge=0, le=1, description="Length normalisation (Okapi b): 0 none, 1 full."
    )
    epsilon: float = Field(0.25, ge=0, description="idf floor factor, as rank_bm25.BM25Okapi")
    lowercase: bool = Field(True, description="Lowercase tokens before matching.")
    stopwords: Literal["english", "none"] | list[str] = Field(
        "english", description="english, none, or your own list of words to drop."
    )
    stemmer: Literal["snowball", "none"] = Field(
        "snowball", description="snowball (English) or none."
    )
    min_token_len: int = Field(
        1, ge=1, description="Drop tokens shorter than this many characters."
    )


class GraphSettings(StrictModel):
    """Knowledge graph: key phrases per chunk and how far retrieval walks."""

    max_phrases_per_chunk: int = Field(
        8, ge=1, le=64, description="Key phrases kept per chunk (by TF-IDF)."
    )
    max_phrase_words: int = Field(3, ge=1, le=6, description="Longest key phrase, in words.")
    min_phrase_chunks: int = Field(2, ge=1, description="Keep phrases seen in at least N chunks.")
    max_phrase_fraction: float = Field(
        0.02, gt=0, le=1, description="Drop phrases in more than this fraction of chunks."
    )
    walk_steps: int = Field(3, ge=1, le=6, description="Steps of the personalized-PageRank walk.")
    restart: float = Field(0.3, gt=0, lt=1, description="Restart probability of the walk.")
    seed_hits: int = Field(5, ge=0, le=50, description="Top dense/BM25 hits used as seeds.")


class IndexSettings(StrictModel):
    """Index storage, the BM25 and graph indexes, and version retention."""

    qdrant: QdrantSettings = Field(default_factory=lambda: QdrantSettings.model_validate({}))
    bm25: Bm25Settings = Field(default_factory=lambda: Bm25Settings())
    graph: GraphSettings = Field(default_factory=lambda: GraphSettings())
    retention: int = Field(5, ge=1, description="Published versions kept for rollback.")


class ExperimentVariant(StrictModel):
    """One experiment: the pipeline with some settings replaced, built as its own version.

    Only the keys written here override (every source's chunking, the embedding model, fusion).
    """

    name: str = Field(
        pattern=NAME_PATTERN,
        max_length=24,
        description="The variant's name (its folder under experiments/).",
    )
    chunking: ChunkingSettings | None = None
    embedding: EmbeddingSettings | None = None
    fusion: FusionSettings | None = None


class EvaluationSettings(StrictModel):
    """Golden sets and the quality bar that gates publishing."""

    sets: list[EvalSetSettings] = Field(default_factory=list)
    modes: list[Mode] = Field(
        default_factory=all_modes,
        description="Retrieval modes evaluated by the check and `rag-pipelines eval`.",
    )
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


class PipelineSettings(StrictModel):
    """Pipeline identity and where its state lives."""

    name: str = Field(
        "default",
        pattern=NAME_PATTERN,
        max_length=48,
        description="The pipeline's name: in collection names, run tags and the Dagster pool.",
    )
    data_dir: Path = Field(
        Path(".rag"),
        validate_default=True,
        description="Where all local state lives (a cache of it with pipeline.state).",
    )
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

    version: Literal[1] = Field(1, description="Format version of this file; 1 is the only one.")
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

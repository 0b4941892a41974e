"""sources.yaml's `index.qdrant`: the backend, versioning and the layout on a Qdrant cluster."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from rag_pipelines.config.base import StrictModel


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_serializer(mode="wrap")
    def _without_nulls(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Dumped into Dagster resource config, whose maps refuse null members.
        data = handler(self)
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data


class QuantizationSettings(_Strict):
    """Scalar int8 quantization of dense vectors, rescored with the originals at query time."""

    type: Literal["int8"] = Field("int8", description="Scalar quantization type.")
    quantile: float = Field(0.99, ge=0.5, le=1, description="Clip outliers beyond this quantile.")
    always_ram: bool = Field(
        True, description="Keep the int8 copy in RAM (originals may be on disk)."
    )
    rescore: bool = Field(True, description="Re-rank quantized candidates with original vectors.")
    oversampling: float = Field(
        2.0, ge=1, le=16, description="Fetch limit × this many candidates before rescoring."
    )

    @model_validator(mode="after")
    def _oversampling_needs_rescore(self) -> QuantizationSettings:
        if self.oversampling > 1 and not self.rescore:
            raise ValueError(
                "quantization.oversampling > 1 only helps with rescore: true "
                "(set rescore: true, or oversampling: 1)"
            )
        return self


class HnswSettings(_Strict):
    """The dense HNSW graph, deferred during bulk load (m: 0) and built once at the end."""

    m: int = Field(16, ge=4, le=128, description="Edges per node once indexing is re-enabled.")
    ef_construct: int = Field(
        100, ge=4, le=4096, description="HNSW build-time candidate list size."
    )
    on_disk: bool = Field(False, description="Keep the graph on disk (mmap) instead of RAM.")
    bulk_load: bool = Field(
        True, description="Create with m: 0 (no graph while uploading); set m when finalized."
    )
    indexing_threshold_kb: int = Field(
        20000, ge=1, le=10_000_000, description="Segments above this size get an HNSW index."
    )


class UploadSettings(_Strict):
    """How points are sent: batches of `batch_size`, `parallel` worker processes."""

    batch_size: int = Field(256, ge=1, le=10_000, description="Points per upload request.")
    parallel: int = Field(1, ge=1, le=64, description="Upload worker processes.")
    max_retries: int = Field(3, ge=0, le=20, description="Retries of a failed upload batch.")


class QdrantClusterSettings(_Strict):
    """Collection layout on a Qdrant server or cluster (qdrant-client backends only)."""

    shard_number: int | None = Field(None, ge=1, le=1024, description="null: the server's default.")
    replication_factor: int | None = Field(
        None, ge=1, le=16, description="Copies of each shard; null: the server's default."
    )
    write_consistency_factor: int | None = Field(
        None, ge=1, le=16, description="Replicas a write waits for (≤ replicas)."
    )
    on_disk_vectors: bool = Field(False, description="Original dense vectors on disk (mmap).")
    on_disk_sparse_index: bool = Field(False, description="The BM25 inverted index on disk.")
    on_disk_payload: bool = Field(False, description="Payloads on disk instead of RAM.")
    quantization: QuantizationSettings | None = None
    hnsw: HnswSettings = Field(default_factory=lambda: HnswSettings())
    upload: UploadSettings = Field(default_factory=lambda: UploadSettings())
    index_wait_s: float = Field(
        600.0, ge=0, description="How long finalize waits for the collection to turn green."
    )

    @model_validator(mode="after")
    def _consistency_within_replicas(self) -> QdrantClusterSettings:
        replicas = self.replication_factor or 1
        if self.write_consistency_factor is not None and self.write_consistency_factor > replicas:
            raise ValueError(
                f"write_consistency_factor ({self.write_consistency_factor}) cannot exceed "
                f"replication_factor ({replicas}): writes would wait for replicas that do not "
                "exist; lower it or raise replication_factor"
            )
        return self


def check_cluster_backend(backend: str | None, cluster: QdrantClusterSettings | None) -> None:
    """Raise ValueError when cluster settings do not fit the backend."""
    if cluster is None:
        return
    if backend == "edge":
        raise ValueError(
            "cluster: settings apply to a Qdrant server; set url: to the server "
            "(or backend: local to try them in qdrant-client's local mode)"
        )
    if backend == "local" and cluster.upload.parallel > 1:
        raise ValueError(
            "cluster.upload.parallel > 1 needs backend 'server': local mode writes "
            "from this one process (set parallel: 1)"
        )


class QdrantSettings(StrictModel):
    """Where vectors live: embedded Qdrant Edge, a Qdrant server, or qdrant-client local mode."""

    backend: Literal["edge", "server", "local"] | None = Field(
        None, description="edge (in-process, default), server (needs url) or local."
    )
    url: str | None = Field(None, description="The Qdrant server's URL (backend: server).")
    api_key_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the variable holding the server's API key.",
    )
    collection_prefix: str = Field(
        "rag",
        pattern=r"^[a-z][a-z0-9_-]*$",
        description="Prefix of every collection and alias name.",
    )
    timeout_s: float = Field(
        30.0, gt=0, description="Request timeout against a server, in seconds."
    )
    cluster: QdrantClusterSettings | None = Field(
        None, description="Shards, replicas, on-disk storage, quantization, HNSW, upload."
    )
    versioning: Literal["copy", "generation"] = Field(
        "copy",
        description="copy: one collection per version; generation: one per (model, chunker, "
        "BM25 statistics), updated in place, points valid from/to a version (client backends).",
    )
    search_threads: int | None = Field(
        1,
        ge=1,
        le=256,
        description="Qdrant Edge: threads searching one shard's segments in parallel, fixed "
        "when a version is built; null: one per CPU (Edge's default).",
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
        if self.search_threads != 1 and self.backend != "edge":
            raise ValueError(
                "search_threads applies to the embedded Edge store; a Qdrant server sets its "
                "own (storage.performance.max_search_threads in its config)"
            )
        if self.versioning == "generation" and self.backend == "edge":
            raise ValueError(
                "versioning: generation needs a qdrant-client backend (url: for a server, or "
                "backend: local); the embedded Edge store keeps one shard per version (copy)"
            )
        return self

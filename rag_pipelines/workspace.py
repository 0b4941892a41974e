"""Where a pipeline keeps its state under `pipeline.data_dir`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ONNX_CACHE_ENV = "RAG_ONNX_CACHE"


@dataclass(frozen=True)
class Workspace:
    """Paths of one pipeline's data directory (nothing is created until written)."""

    root: Path

    def source_dir(self, source: str, shard: int | None = None) -> Path:
        """Per-source state: documents, chunks, failures (a shard's under `shards/<k>/`).

        `shard=None` is an unsharded source (`shards: 1`): its state stays where it always was.
        Everything of one shard lives under its folder, so the folder prefix is the shard.
        """
        base = self.root / "sources" / source
        return base if shard is None else base / "shards" / str(shard)

    def documents_path(self, source: str, shard: int | None = None) -> Path:
        """The parsed documents of a source (JSON Lines)."""
        return self.source_dir(source, shard) / "documents.jsonl"

    def failures_path(self, source: str, shard: int | None = None) -> Path:
        """Documents of a source that could not be ingested (JSON Lines)."""
        return self.source_dir(source, shard) / "failures.jsonl"

    def ledger_path(self, source: str, shard: int | None = None) -> Path:
        """Every document a source ever had, with state and times (JSON Lines)."""
        return self.source_dir(source, shard) / "ledger.jsonl"

    def signature_path(self, source: str, shard: int | None = None) -> Path:
        """The listing signature of the last ingest (what sensors compare against)."""
        return self.source_dir(source, shard) / "listing.sig"

    def chunks_path(self, source: str, shard: int | None = None) -> Path:
        """The chunks of a source (JSON Lines)."""
        return self.source_dir(source, shard) / "chunks.jsonl"

    def embeddings_state_path(self, source: str, shard: int | None = None) -> Path:
        """Which model embedded a source's chunks, and how many (JSON)."""
        return self.source_dir(source, shard) / "embeddings.json"

    @property
    def embedding_cache_path(self) -> Path:
        """Vectors keyed by (model fingerprint, text hash)."""
        return self.root / "cache" / "embeddings.sqlite"

    @property
    def model_cache_dir(self) -> Path:
        """Cached weight hashes of local models."""
        return self.root / "cache" / "models"

    @property
    def onnx_dir(self) -> Path:
        """ONNX exports of embedding models, one folder per model fingerprint.

        `$RAG_ONNX_CACHE` shares one folder between pipelines (the folders are keyed by the
        model fingerprint and the torch version, so sharing is safe); the tests use it.
        """
        shared = os.environ.get(ONNX_CACHE_ENV)
        return Path(shared) if shared else self.root / "cache" / "onnx"

    @property
    def index_dir(self) -> Path:
        """Versioned index builds and the live pointer."""
        return self.root / "index"

    @property
    def builds_dir(self) -> Path:
        """One folder per index version."""
        return self.index_dir / "builds"

    def build_dir(self, version: str) -> Path:
        """The folder of one index version."""
        return self.builds_dir / version

    @property
    def live_pointer(self) -> Path:
        """The file naming the published version (replaced atomically)."""
        return self.index_dir / "LIVE.json"

    @property
    def generations_dir(self) -> Path:
        """Per-generation BM25 vocabularies (generation versioning on a Qdrant server)."""
        return self.index_dir / "generations"

    @property
    def edge_dir(self) -> Path:
        """Qdrant Edge shards, one per version."""
        return self.index_dir / "qdrant-edge"

    @property
    def qdrant_local_dir(self) -> Path:
        """qdrant-client local-mode storage."""
        return self.index_dir / "qdrant-local"

    @property
    def feedback_db(self) -> Path:
        """Feedback from the service (SQLite)."""
        return self.root / "feedback" / "feedback.sqlite"

    @property
    def feedback_set_dir(self) -> Path:
        """The golden set built from feedback."""
        return self.root / "feedback" / "golden"

    @property
    def build_lock(self) -> Path:
        """Held by a run that builds or publishes index versions."""
        return self.index_dir / ".build.lock"

    def source_lock(self, source: str, shard: int | None = None) -> Path:
        """Held while a run writes one shard's documents, chunks or embeddings."""
        return self.source_dir(source, shard) / ".lock"

    @property
    def dagster_home(self) -> Path:
        """DAGSTER_HOME for runs of this pipeline (SQLite storage)."""
        return self.root / "dagster"

    @property
    def logs_dir(self) -> Path:
        """Logs of CLI-launched runs."""
        return self.root / "logs"

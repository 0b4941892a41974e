"""Dagster resources: the embedding model and the vector store, created lazily per run."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from rag_pipelines.config.models import EmbeddingSettings, QdrantSettings
from rag_pipelines.embedding.model import SentenceTransformerModel
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.locks import Exclusive
from rag_pipelines.workspace import Workspace

# Loading a model costs seconds; a code server or test session materializes many runs.
_MODELS: dict[str, SentenceTransformerModel] = {}
_MODELS_LOCK = threading.Lock()


class EmbeddingModelResource(dg.ConfigurableResource):
    """The sentence-transformers model, loaded once per run on first use."""

    model: str
    revision: str | None = None
    device: str = "auto"
    devices: list[str] | None = None
    precision: str = "auto"
    batch_size: int = 64
    normalize: bool = True
    backend: str = "auto"
    onnx_dir: str | None = None
    _loaded: Any = PrivateAttr(default=None)

    @classmethod
    def from_settings(
        cls, settings: EmbeddingSettings, data_dir: str | None = None
    ) -> EmbeddingModelResource:
        """The resource for sources.yaml's embedding section (ONNX exports under data_dir)."""
        onnx_dir = str(Workspace(Path(data_dir)).onnx_dir) if data_dir else None
        return cls(**settings.model_dump(exclude={"finetune"}), onnx_dir=onnx_dir)

    def get(self) -> SentenceTransformerModel:
        """The loaded model (shared by every run in this process with the same settings)."""
        if self._loaded is None:
            settings = EmbeddingSettings.model_validate(
                self.model_dump(include=set(EmbeddingSettings.model_fields))
            )
            key = settings.model_dump_json()
            with _MODELS_LOCK:
                if key not in _MODELS:
                    _MODELS[key] = SentenceTransformerModel(
                        settings, onnx_dir=Path(self.onnx_dir) if self.onnx_dir else None
                    )
                self._loaded = _MODELS[key]
        return self._loaded


class VectorStoreResource(dg.ConfigurableResource):
    """The Qdrant store (Edge, server or local mode) for this pipeline's data dir."""

    backend: str
    url: str | None = None
    api_key_env: str | None = None
    # The server's key as a secret Dagster resolves at run time (dg.EnvVar of api_key_env):
    # the UI and the run config show the variable's name, never its value.
    api_key: str | None = None
    collection_prefix: str = "rag"
    timeout_s: float = 30.0
    cluster: dict[str, Any] | None = None
    versioning: str = "copy"
    search_threads: int | None = 1
    generation_avgdl_drift: float = 0.05
    data_dir: str
    _store: Any = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: QdrantSettings, data_dir: str) -> VectorStoreResource:
        """The resource for sources.yaml's index.qdrant section (the key through dg.EnvVar)."""
        secret: Any = dg.EnvVar(settings.api_key_env) if settings.api_key_env else None
        return cls(**settings.model_dump(), api_key=secret, data_dir=data_dir)

    def get(self) -> VectorStore:
        """The open store."""
        if self._store is None:
            settings = QdrantSettings.model_validate(
                self.model_dump(include=set(QdrantSettings.model_fields))
            )
            self._store = open_vector_store(
                settings, Workspace(Path(self.data_dir)), api_key=self.api_key
            )
        return self._store

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Close shards and connections at the end of the run."""
        if self._store is not None:
            self._store.close()
            self._store = None


class BuildLockResource(dg.ConfigurableResource):
    """The data dir's build lock, held for a whole build-and-publish run.

    Within one Dagster instance the index pool already queues a second build, so nobody waits
    here; the lock is for what Dagster cannot see: a build of another instance (another
    DAGSTER_HOME) on the same data dir, or `rollback`. That one refuses with PipelineBusy.
    """

    data_dir: str
    _lock: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Take the pipeline's build lock (raises PipelineBusy if another run holds it)."""
        lock = Exclusive(Workspace(Path(self.data_dir)).build_lock, "this pipeline's index")
        lock.acquire()
        self._lock = lock

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Release the lock."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

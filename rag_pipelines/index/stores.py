"""Pick the vector store the configuration names."""

from __future__ import annotations

import os

from rag_pipelines.config.models import QdrantSettings
from rag_pipelines.errors import ConfigError
from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.edge_store import EdgeVectorStore
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.workspace import Workspace


def open_vector_store(
    settings: QdrantSettings, workspace: Workspace, api_key: str | None = None
) -> VectorStore:
    """Edge under the data dir by default; a server by URL; or qdrant-client local mode.

    `api_key`: the server's key when the caller resolved it (Dagster passes it through
    `dg.EnvVar`); otherwise it is read from `index.qdrant.api_key_env`.
    """
    if settings.backend == "server":
        if api_key is None and settings.api_key_env:
            api_key = os.environ.get(settings.api_key_env)
            if not api_key:
                raise ConfigError(
                    "sources.yaml",
                    [f"index.qdrant.api_key_env: ${settings.api_key_env} is not set"],
                )
        assert settings.url is not None  # validated by QdrantSettings
        return ClientVectorStore.connect(
            settings.url, api_key, settings.timeout_s, settings.cluster
        )
    if settings.backend == "local":
        workspace.qdrant_local_dir.mkdir(parents=True, exist_ok=True)
        return ClientVectorStore.local(str(workspace.qdrant_local_dir), settings.cluster)
    return EdgeVectorStore(workspace.edge_dir, settings.search_threads)


def collection_name(settings: QdrantSettings, pipeline: str, version: str) -> str:
    """The collection holding one index version."""
    return f"{settings.collection_prefix}_{pipeline}_{version}"


def alias_name(settings: QdrantSettings, pipeline: str) -> str:
    """The alias that always names the published collection."""
    return f"{settings.collection_prefix}_{pipeline}_live"

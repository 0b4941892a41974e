"""sources.yaml: models and loading."""

from rag_pipelines.config.connectors import ConnectorSettings, known_types, register_connector
from rag_pipelines.config.loader import default_sources_path, load_sources_file, parse_sources
from rag_pipelines.config.models import (
    ChunkingSettings,
    EmbeddingSettings,
    QdrantSettings,
    SourceConfig,
    SourcesFile,
)

__all__ = [
    "ChunkingSettings",
    "ConnectorSettings",
    "EmbeddingSettings",
    "QdrantSettings",
    "SourceConfig",
    "SourcesFile",
    "default_sources_path",
    "known_types",
    "load_sources_file",
    "parse_sources",
    "register_connector",
]

"""sources.yaml: models and loading."""

from rag_pipelines.config.loader import default_sources_path, load_sources_file, parse_sources
from rag_pipelines.config.models import (
    BeirConnector,
    ChunkingSettings,
    EmbeddingSettings,
    FilesystemConnector,
    QdrantSettings,
    SourceConfig,
    SourcesFile,
)

__all__ = [
    "BeirConnector",
    "ChunkingSettings",
    "EmbeddingSettings",
    "FilesystemConnector",
    "QdrantSettings",
    "SourceConfig",
    "SourcesFile",
    "default_sources_path",
    "load_sources_file",
    "parse_sources",
]

"""Everything a stage needs: the parsed sources.yaml, its workspace and where state lives."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from rag_pipelines.config.models import SourcesFile
from rag_pipelines.embedding.cache import EmbeddingCache, VectorCache
from rag_pipelines.embedding.sql_cache import SqlEmbeddingCache
from rag_pipelines.index.versions import VersionRegistry
from rag_pipelines.shards import Shard, partition_keys, resolve, shards_of
from rag_pipelines.state import PipelineState, open_pipeline_state
from rag_pipelines.workspace import Workspace


@dataclass(frozen=True)
class PipelineContext:
    """A pipeline's configuration and state folders."""

    config: SourcesFile

    @property
    def workspace(self) -> Workspace:
        """The data directory (with `pipeline.state.url`, a local cache of the shared state)."""
        return Workspace(self.config.pipeline.data_dir)

    @cached_property
    def state(self) -> PipelineState:
        """The state store and metadata DB `pipeline.state` names (default: the data dir)."""
        settings = self.config.pipeline.state
        return open_pipeline_state(
            settings.url, settings.metadata_db, self.workspace.root, self.config.pipeline.name
        )

    @property
    def registry(self) -> VersionRegistry:
        """The index versions."""
        return VersionRegistry(self.workspace, self.state)

    def embedding_cache(self) -> VectorCache:
        """The embedding cache: the metadata DB's when configured, else SQLite in the data dir."""
        if self.state.db is not None:
            return SqlEmbeddingCache(self.state.db.engine)
        return EmbeddingCache(self.workspace.embedding_cache_path)

    def shard(self, key: str) -> Shard:
        """The shard a partition key names (UnknownPartition if none)."""
        return resolve(self.config.sources, key)

    def shards(self, source: str) -> list[Shard]:
        """Every shard of a source (one, keyed by its name, when it is not sharded)."""
        return shards_of(self.config.source(source))

    def partition_keys(self, names: list[str] | None = None) -> list[str]:
        """Partition keys of the named sources (all their shards) or of single partition keys
        (`<source>~<k>`), in the given order; default: every source."""
        if names is None:
            return partition_keys(self.config.sources)
        by_name = {s.name: s for s in self.config.sources}
        return [
            key
            for name in names
            for key in (
                partition_keys([by_name[name]]) if name in by_name else [self.shard(name).key]
            )
        ]

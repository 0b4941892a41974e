"""Everything a stage needs: the parsed sources.yaml and its workspace."""

from __future__ import annotations

from dataclasses import dataclass

from rag_pipelines.config.models import SourcesFile
from rag_pipelines.index.versions import VersionRegistry
from rag_pipelines.workspace import Workspace


@dataclass(frozen=True)
class PipelineContext:
    """A pipeline's configuration and state folders."""

    config: SourcesFile

    @property
    def workspace(self) -> Workspace:
        """The data directory."""
        return Workspace(self.config.pipeline.data_dir)

    @property
    def registry(self) -> VersionRegistry:
        """The index versions."""
        return VersionRegistry(self.workspace)

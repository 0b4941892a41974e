"""A variant's pipeline context: its own data dir, the main pipeline's caches."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag_pipelines.context import PipelineContext
from rag_pipelines.workspace import Workspace


@dataclass(frozen=True)
class SharedCacheWorkspace(Workspace):
    """A variant's data dir whose embedding, model and ONNX caches are the main pipeline's."""

    shared: Path = Path()

    @property
    def embedding_cache_path(self) -> Path:
        """The main pipeline's embedding cache."""
        return Workspace(self.shared).embedding_cache_path

    @property
    def model_cache_dir(self) -> Path:
        """The main pipeline's model cache."""
        return Workspace(self.shared).model_cache_dir

    @property
    def onnx_dir(self) -> Path:
        """The main pipeline's ONNX exports."""
        return Workspace(self.shared).onnx_dir


@dataclass(frozen=True)
class VariantContext(PipelineContext):
    """A variant's configuration, with the main pipeline's caches."""

    shared_root: Path = Path()

    @property
    def workspace(self) -> Workspace:
        """The variant's data dir (caches shared)."""
        return SharedCacheWorkspace(self.config.pipeline.data_dir, self.shared_root)

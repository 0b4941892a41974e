"""Build a reranker of any registered kind from what a version's record and settings say."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

from rag_pipelines.config.rerankers import DEFAULT_KIND, check_reranker_kind, reranker_factories
from rag_pipelines.retrieval.rerank import Reranker


@dataclass(frozen=True)
class RerankerSpec:
    """Everything a reranker factory may read; each kind ignores what it does not use."""

    model_path: str
    kind: str = DEFAULT_KIND
    device: str = "cpu"
    batch_size: int = 16
    max_length: int | None = None  # None: the kind's default (cross-encoder 256, the model's)
    onnx_dir: Path | None = None  # the cross-encoder's verified ONNX export (CPU only)


def build_reranker(spec: RerankerSpec) -> Reranker:
    """A reranker of `spec.kind` (UnknownReranker, listing the known kinds, if none has it)."""
    factory = reranker_factories()[check_reranker_kind(spec.kind)]
    return cast(Reranker, factory(spec))

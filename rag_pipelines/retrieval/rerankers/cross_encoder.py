"""Kind `cross-encoder`: a sentence-transformers CrossEncoder (the default)."""

from __future__ import annotations

from rag_pipelines.config.rerankers import register
from rag_pipelines.retrieval.rerank import CrossEncoderReranker
from rag_pipelines.retrieval.rerankers.base import RerankerSpec

KIND = "cross-encoder"


def build(spec: RerankerSpec) -> CrossEncoderReranker:
    """A cross-encoder from the spec's model folder."""
    return CrossEncoderReranker(
        spec.model_path,
        device=spec.device,
        batch_size=spec.batch_size,
        max_length=spec.max_length or 256,
        onnx_dir=spec.onnx_dir,
    )


register(KIND, build)

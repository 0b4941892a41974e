"""Open an index version for querying: its model, BM25 model, graph and reranker."""

from __future__ import annotations

import threading

from rag_pipelines.context import PipelineContext
from rag_pipelines.index.records import load_fusion_record, load_reranker_record
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.model_cache import model_for
from rag_pipelines.retrieval.query_weights import load_query_weights
from rag_pipelines.retrieval.rerank import CrossEncoderReranker

_rerankers: dict[str, CrossEncoderReranker] = {}
_lock = threading.Lock()


def open_version(ctx: PipelineContext, version: str, store: VectorStore) -> VersionIndex:
    """A VersionIndex for any complete version (live or candidate)."""
    registry = ctx.registry
    manifest = registry.manifest(version)
    build_dir = registry.build_path(version)
    model = model_for(
        ctx.config.embedding, manifest.model_ref, manifest.model, ctx.workspace.onnx_dir
    )
    record = load_reranker_record(build_dir)
    reranker = (
        reranker_for(record.model_path, _device(ctx)) if record and record.model_path else None
    )
    index = VersionIndex(
        manifest,
        build_dir,
        store,
        lambda text: model.encode([text])[0],
        reranker,
        rerank_default=bool(record and record.enabled_by_default and reranker),
        encode_many=model.encode,
    )
    tuned = load_fusion_record(build_dir)
    if tuned is not None:  # measured on this version's tuning queries; beats the configured one
        index.fusion = index.fusion.model_copy(
            update={"k": tuned.k, "weights": tuned.weights, "method": tuned.method}
        )
    index.query_weights = load_query_weights(build_dir)  # issue 16: fit on tuning queries
    return index


def reranker_for(path: str, device: str = "cpu") -> CrossEncoderReranker:
    """One loaded cross-encoder per path per process."""
    with _lock:
        if path not in _rerankers:
            _rerankers[path] = CrossEncoderReranker(path, device=device)
        return _rerankers[path]


def _device(ctx: PipelineContext) -> str:
    device = ctx.config.embedding.device
    if device != "auto":
        return device
    from rag_pipelines.embedding.device import TorchAccelerators, select_runtime

    return select_runtime("auto", "auto", TorchAccelerators()).device

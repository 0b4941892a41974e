"""Open an index version for querying: its model, BM25 model, graph and reranker."""

from __future__ import annotations

import threading
from pathlib import Path

from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.backend import select_backend
from rag_pipelines.index.generation_view import version_store
from rag_pipelines.index.records import load_fusion_record, load_reranker_record
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.model_cache import model_for
from rag_pipelines.retrieval.query_weights import load_query_weights
from rag_pipelines.retrieval.rerank import Reranker
from rag_pipelines.retrieval.rerankers.base import RerankerSpec, build_reranker

_rerankers: dict[RerankerSpec, Reranker] = {}
_lock = threading.Lock()


def open_version(ctx: PipelineContext, version: str, store: VectorStore) -> VersionIndex:
    """A VersionIndex for any complete version (live or candidate)."""
    registry = ctx.registry
    registry.fetch(version)  # with shared state: into this machine's cache first
    manifest = registry.manifest(version)
    build_dir = registry.build_path(version)
    model = model_for(
        ctx.config.embedding,
        local_model(ctx, manifest.model_ref),
        manifest.model,
        ctx.workspace.onnx_dir,
    )
    record = load_reranker_record(build_dir)
    reranker = (
        reranker_for(
            RerankerSpec(
                local_model(ctx, record.model_path),
                record.kind,
                _device(ctx),
                onnx_dir=reranker_onnx_dir(ctx),
            )
        )
        if record and record.model_path
        else None
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
    index.query_weights = load_query_weights(build_dir)  # fitted on the tuning queries
    index.store = version_store(store, manifest, index.bm25.idf)  # itself unless a generation's
    return index


def local_model(ctx: PipelineContext, ref: str) -> str:
    """A model the pipeline trained, on this machine: `<data_dir>/models/<name>` of the machine
    that trained it becomes this data dir's copy, pulled from the shared state when missing."""
    path = Path(ref)
    if not path.is_absolute() or path.exists() or path.parent.name != "models":
        return ref
    local = ctx.workspace.root / "models" / path.name
    ctx.state.store.pull(f"models/{path.name}/")
    return str(local) if local.exists() else ref


def reranker_for(spec: RerankerSpec) -> Reranker:
    """One loaded reranker per kind, model, device and backend per process."""
    with _lock:
        if spec not in _rerankers:
            _rerankers[spec] = build_reranker(spec)
        return _rerankers[spec]


def reranker_onnx_dir(ctx: PipelineContext) -> Path | None:
    """Where the cross-encoder's ONNX export lives when embedding.backend picks ONNX, else None.

    fp32 only: an int8 embedder does not make the reranker int8 (its scores are not gated).
    """
    settings = ctx.config.embedding
    backend = select_backend(settings.backend, _device(ctx), pooled=bool(settings.devices))
    return None if backend == "torch" else ctx.workspace.onnx_dir


def _device(ctx: PipelineContext) -> str:
    device = ctx.config.embedding.device
    if device != "auto":
        return device
    from rag_pipelines.embedding.device import TorchAccelerators, select_runtime

    return select_runtime("auto", "auto", TorchAccelerators()).device

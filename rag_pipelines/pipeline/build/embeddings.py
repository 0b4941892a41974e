"""Stage 3: embed one source's chunks into the shared embedding cache."""

from __future__ import annotations

from pydantic import BaseModel

from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.embedder import EmbedReport, Progress, embed_chunks
from rag_pipelines.embedding.fingerprint import ModelFingerprint
from rag_pipelines.embedding.model import EmbeddingModel
from rag_pipelines.hashing import sha256_text
from rag_pipelines.pipeline.build.chunks import load_chunks
from rag_pipelines.storage import atomic_write_text


class EmbeddingState(BaseModel):
    """Which model embedded a source's current chunks."""

    source: str
    model_ref: str
    fingerprint: ModelFingerprint
    chunks: int
    chunks_hash: str


def embed(
    ctx: PipelineContext, source: str, model: EmbeddingModel, progress: Progress | None = None
) -> EmbedReport:
    """Embed the chunks of a source that the cache lacks and record the model used."""
    chunks = load_chunks(ctx, source)
    cache = ctx.embedding_cache()
    try:
        report = embed_chunks(chunks, model, cache, progress)
    finally:
        cache.close()
    state = EmbeddingState(
        source=source,
        model_ref=ctx.config.embedding.model,
        fingerprint=model.fingerprint,
        chunks=len(chunks),
        chunks_hash=sha256_text(*sorted(c.text_hash for c in chunks)),
    )
    atomic_write_text(ctx.workspace.embeddings_state_path(source), state.model_dump_json(indent=2))
    return report


def load_embedding_state(ctx: PipelineContext, source: str) -> EmbeddingState | None:
    """The recorded embedding state of a source, if it was embedded."""
    path = ctx.workspace.embeddings_state_path(source)
    if not path.exists():
        return None
    return EmbeddingState.model_validate_json(path.read_text(encoding="utf-8"))

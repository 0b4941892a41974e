"""Stage 3: embed one shard's chunks into the shared embedding cache."""

from __future__ import annotations

from pydantic import BaseModel

from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.embedder import EmbedReport, Progress, embed_chunks
from rag_pipelines.embedding.fingerprint import ModelFingerprint
from rag_pipelines.embedding.model import EmbeddingModel
from rag_pipelines.faults import crash_point
from rag_pipelines.hashing import sha256_text
from rag_pipelines.pipeline.build.chunks import shard_chunks
from rag_pipelines.shards import Shard
from rag_pipelines.storage import atomic_write_text


class EmbeddingState(BaseModel):
    """Which model embedded a shard's (an unsharded source's) current chunks."""

    source: str
    shard: int | None = None
    model_ref: str
    fingerprint: ModelFingerprint
    chunks: int
    chunks_hash: str


def embed(
    ctx: PipelineContext,
    partition: Shard | str,
    model: EmbeddingModel,
    progress: Progress | None = None,
) -> EmbedReport:
    """Embed the chunks of a shard that the cache lacks and record the model used."""
    shard = ctx.shard(partition) if isinstance(partition, str) else partition
    chunks = shard_chunks(ctx, shard)
    cache = ctx.embedding_cache()
    try:
        report = embed_chunks(chunks, model, cache, progress)
    finally:
        cache.close()
    crash_point("embeddings_cached")
    state = EmbeddingState(
        source=shard.source,
        shard=shard.folder,
        model_ref=ctx.config.embedding.model,
        fingerprint=model.fingerprint,
        chunks=len(chunks),
        chunks_hash=sha256_text(*sorted(c.text_hash for c in chunks)),
    )
    path = ctx.workspace.embeddings_state_path(shard.source, shard.folder)
    atomic_write_text(path, state.model_dump_json(indent=2))
    return report


def load_embedding_state(ctx: PipelineContext, shard: Shard | str) -> EmbeddingState | None:
    """The recorded embedding state of a shard (or unsharded source), if it was embedded."""
    shard = ctx.shard(shard) if isinstance(shard, str) else shard
    path = ctx.workspace.embeddings_state_path(shard.source, shard.folder)
    if not path.exists():
        return None
    return EmbeddingState.model_validate_json(path.read_text(encoding="utf-8"))

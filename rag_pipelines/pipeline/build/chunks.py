"""Stage 2: chunk one shard's documents into chunks.jsonl (an unsharded source: the source's)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rag_pipelines.chunking.chunker import Chunker
from rag_pipelines.chunking.injection import injection_signals
from rag_pipelines.chunking.models import Chunk, Tokenizer
from rag_pipelines.context import PipelineContext
from rag_pipelines.ingest.models import Document
from rag_pipelines.pipeline.build.documents import shard_documents
from rag_pipelines.pipeline.build.shard_state import chunk_order, read_source
from rag_pipelines.shards import Shard
from rag_pipelines.storage import iter_jsonl, write_jsonl


@dataclass
class ChunkReport:
    """What chunking produced."""

    documents: int
    documents_reused: int
    chunks: int
    injection_suspects: int
    short_merged: int  # short chunks (of the documents chunked now) merged into a neighbour
    short_extended: int  # ... grown over the text before them in their section
    short_dropped: int  # ... that fit nowhere and were dropped
    tokens: int
    max_tokens: int
    token_limit: int
    chunker: str
    seconds: float


def load_chunks(ctx: PipelineContext, source: str) -> list[Chunk]:
    """The stored chunks of a source (every shard's)."""
    return read_source(ctx, source, ctx.workspace.chunks_path, Chunk, chunk_order)


def shard_chunks(ctx: PipelineContext, shard: Shard) -> list[Chunk]:
    """The stored chunks of one shard."""
    return list(iter_jsonl(ctx.workspace.chunks_path(shard.source, shard.folder), Chunk))


def chunk(ctx: PipelineContext, partition: Shard | str, tokenizer: Tokenizer) -> ChunkReport:
    """Chunk every stored document of a shard (or unsharded source) with its settings."""
    started = time.perf_counter()
    shard = ctx.shard(partition) if isinstance(partition, str) else partition
    config = ctx.config.source(shard.source)
    chunker = Chunker(ctx.config.chunking_for(config), tokenizer)
    documents = shard_documents(ctx, shard)
    previous: dict[str, list[Chunk]] = {}
    for old in shard_chunks(ctx, shard):
        previous.setdefault(old.document_id, []).append(old)
    chunks: list[Chunk] = []
    reused = 0
    for document in documents:
        kept = previous.get(document.id, [])
        if kept and all(
            c.document_hash == document.content_hash and c.chunker == chunker.label for c in kept
        ):
            chunks += [_refresh(c, document) for c in kept]
            reused += 1
        else:
            chunks += chunker.chunk(document)
    if ctx.config.safety_for(config).flag_injection:
        for c in chunks:
            c.injection_signals = injection_signals(c.text)
    write_jsonl(ctx.workspace.chunks_path(shard.source, shard.folder), chunks)
    return ChunkReport(
        documents=len(documents),
        documents_reused=reused,
        chunks=len(chunks),
        injection_suspects=sum(1 for c in chunks if c.injection_signals),
        short_merged=chunker.short.merged,
        short_extended=chunker.short.extended,
        short_dropped=chunker.short.dropped,
        tokens=sum(c.token_count for c in chunks),
        max_tokens=max((c.token_count for c in chunks), default=0),
        token_limit=tokenizer.max_tokens,
        chunker=chunker.label,
        seconds=time.perf_counter() - started,
    )


def _refresh(chunk: Chunk, document: Document) -> Chunk:
    """An unchanged document's chunk with its current provenance (a touch updates the time)."""
    if chunk.document_uri == document.uri and chunk.document_modified_at == document.modified_at:
        return chunk
    return chunk.model_copy(
        update={"document_uri": document.uri, "document_modified_at": document.modified_at}
    )

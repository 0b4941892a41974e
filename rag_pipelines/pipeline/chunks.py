"""Stage 2: chunk one source's documents into chunks.jsonl."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rag_pipelines.chunking.chunker import Chunker
from rag_pipelines.chunking.models import Chunk, Tokenizer
from rag_pipelines.pipeline.context import PipelineContext
from rag_pipelines.pipeline.documents import load_documents
from rag_pipelines.storage import iter_jsonl, write_jsonl


@dataclass
class ChunkReport:
    """What chunking produced."""

    documents: int
    chunks: int
    tokens: int
    max_tokens: int
    token_limit: int
    chunker: str
    seconds: float


def load_chunks(ctx: PipelineContext, source: str) -> list[Chunk]:
    """The stored chunks of a source."""
    return list(iter_jsonl(ctx.workspace.chunks_path(source), Chunk))


def chunk(ctx: PipelineContext, source: str, tokenizer: Tokenizer) -> ChunkReport:
    """Chunk every stored document of a source with its settings."""
    started = time.perf_counter()
    config = ctx.config.source(source)
    chunker = Chunker(ctx.config.chunking_for(config), tokenizer)
    documents = load_documents(ctx, source)
    chunks = chunker.chunk_all(documents)
    write_jsonl(ctx.workspace.chunks_path(source), chunks)
    return ChunkReport(
        documents=len(documents),
        chunks=len(chunks),
        tokens=sum(c.token_count for c in chunks),
        max_tokens=max((c.token_count for c in chunks), default=0),
        token_limit=tokenizer.max_tokens,
        chunker=chunker.label,
        seconds=time.perf_counter() - started,
    )

"""A source's state read back whole: its shards' files merged in one deterministic order.

An unsharded source is read as it was written (listing order). A sharded source's records are
merged sorted by document id (a chunk also by its ordinal), an order that does not depend on
how many shards there are or which of them ran last. The snapshot puts every source in that
order, so 1 shard and N shards build the same version, down to the order of tied scores.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.context import PipelineContext
from rag_pipelines.ingest.models import Document
from rag_pipelines.storage import iter_jsonl

M = TypeVar("M", bound=BaseModel)
PathOf = Callable[[str, int | None], Path]  # a Workspace method: (source, shard) → file


def chunk_order(chunk: Chunk) -> tuple[str, int]:
    """The canonical order of a source's chunks: by document id, then position."""
    return chunk.document_id, chunk.ordinal


def document_order(document: Document) -> tuple[str, int]:
    """The canonical order of a source's documents: by id."""
    return document.id, 0


def read_source(
    ctx: PipelineContext,
    source: str,
    path_of: PathOf,
    model: type[M],
    order: Callable[[M], tuple[str, int]],
) -> list[M]:
    """Every record of a source's shards, merged (an unsharded source: its file as is)."""
    shards = ctx.shards(source)
    if len(shards) == 1:
        return list(iter_jsonl(path_of(source, None), model))
    records = [r for shard in shards for r in iter_jsonl(path_of(source, shard.folder), model)]
    return sorted(records, key=order)

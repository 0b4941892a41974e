"""The payload stored with every point: the chunk's text and its provenance."""

from __future__ import annotations

from typing import Any

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.config.models import SourceConfig


def chunk_payload(
    chunk: Chunk,
    source: SourceConfig,
    version: str,
    model_key: str,
    access_groups: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Everything a hit needs to be shown and traced back, and who may read it."""
    return {
        "chunk_id": chunk.id,
        "source": chunk.source,
        "document_id": chunk.document_id,
        "document_uri": chunk.document_uri,
        "document_hash": chunk.document_hash,
        "document_modified_at": chunk.document_modified_at,
        "title": chunk.title,
        "section": chunk.section,
        "pages": chunk.pages,
        "ordinal": chunk.ordinal,
        "text": chunk.text,
        "embed_text": chunk.embed_text,
        "text_hash": chunk.text_hash,
        "token_count": chunk.token_count,
        "chunker": chunk.chunker,
        "injection_suspect": bool(chunk.injection_signals),
        "injection_signals": list(chunk.injection_signals),
        "owner": source.owner,
        "tags": list(source.tags),
        "metadata": dict(source.metadata),
        "access_groups": list(access_groups),
        "index_version": version,
        "model": model_key,
    }

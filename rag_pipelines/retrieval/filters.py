"""Payload filters applied in Python (for graph results, which do not come from Qdrant)."""

from __future__ import annotations

from typing import Any

from rag_pipelines.index.vector_store import ACCESS_KEY, PayloadFilter


def matches(payload: dict[str, Any], flt: PayloadFilter | None) -> bool:
    """The same semantics as the Qdrant filters: any source, tag and group; all metadata equal."""
    if flt is None or flt.empty:
        return True
    if flt.sources and payload.get("source") not in flt.sources:
        return False
    if flt.tags and not set(payload.get("tags") or ()) & set(flt.tags):
        return False
    if flt.groups is not None and not set(payload.get(ACCESS_KEY) or ()) & set(flt.groups):
        return False
    metadata = payload.get("metadata") or {}
    # Qdrant matches typed values: True is not 1 and 1 is not 1.0, though Python says they are.
    return all(
        key in metadata and type(metadata[key]) is type(value) and metadata[key] == value
        for key, value in flt.metadata.items()
    )

"""Lineage of a served chunk: chunk → document → source version → index version → model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from rag_pipelines.context import PipelineContext
from rag_pipelines.errors import IndexNotFoundError, RagPipelinesError
from rag_pipelines.index.access import AccessPolicy, NarrowedPolicy, Readers
from rag_pipelines.index.layout import CHUNKS, DOCUMENTS
from rag_pipelines.pipeline.build.documents import load_ledger
from rag_pipelines.retrieval.lookup import SnapshotLookup


class ChunkNotFound(RagPipelinesError):
    """No such chunk in the version asked about."""


class Lineage(BaseModel):
    """Everything needed to explain where a served chunk came from."""

    chunk: dict[str, Any]
    document: dict[str, Any]
    source_version: dict[str, Any]
    index_version: dict[str, Any]
    model: dict[str, Any]


def chunk_lineage(
    ctx: PipelineContext, chunk_id: str, version: str | None = None, readers: Readers = None
) -> Lineage:
    """The lineage of a chunk in `version` (default: the published one), as `readers` see it.

    A chunk of a document hidden from `readers` is reported as not found, and counts only
    include what they may read. In a version other than the live one a document must be
    readable under both that version's policy and the live one: access revoked since stays
    revoked through every retained version.
    """
    registry = ctx.registry
    live_manifest = registry.live_manifest()
    version = version or live_manifest.version
    try:
        manifest = registry.manifest(version)
    except IndexNotFoundError:
        # A link into a version retention removed: the chunk is gone (404), the index is not.
        raise ChunkNotFound(f"no chunk {chunk_id!r}: index version {version} is not kept") from None
    folder = registry.build_path(version)
    lookup = SnapshotLookup(folder / DOCUMENTS, folder / CHUNKS)
    chunk = lookup.chunk(chunk_id)
    policy = AccessPolicy.from_settings(manifest.settings)
    if version != live_manifest.version:
        policy = NarrowedPolicy(policy, AccessPolicy.from_settings(live_manifest.settings))
    if chunk is None or not policy.readable(chunk.source, chunk.document_id, readers):
        raise ChunkNotFound(f"no chunk {chunk_id!r} in index version {version}")
    key = f"{chunk.source}/{chunk.document_id}"
    document = lookup.document(key)
    ledger = {e.id: e for e in load_ledger(ctx, chunk.source)}.get(chunk.document_id)
    summary = manifest.sources.get(chunk.source)
    published = [p for p in registry.history() if p.version == version]
    live = registry.live()
    documents_in_source = summary.documents if summary else None
    source_hash = summary.content_hash if summary else None
    if not policy.source_open_to(chunk.source, readers):
        # Both would change with (and count) documents these readers may not see.
        documents_in_source = visible_documents(policy, lookup, readers).get(chunk.source, 0)
        source_hash = None
    return Lineage(
        chunk={
            "id": chunk.id,
            "text_hash": chunk.text_hash,
            "ordinal": chunk.ordinal,
            "section": chunk.section,
            "pages": chunk.pages,
            "token_count": chunk.token_count,
            "chunker": chunk.chunker,
            "chunking": summary.chunking if summary else {},
        },
        document={
            "key": key,
            "source": chunk.source,
            "id": chunk.document_id,
            "uri": chunk.document_uri,
            "title": chunk.title,
            "content_hash": chunk.document_hash,
            "modified_at": chunk.document_modified_at,
            "size_bytes": document.size_bytes if document else None,
        },
        source_version={
            "source": chunk.source,
            "source_content_hash": source_hash,
            "documents_in_source": documents_in_source,
            "document_first_seen_at": ledger.first_seen_at if ledger else None,
            "document_changed_at": ledger.changed_at if ledger else None,
            "document_state_now": ledger.state if ledger else None,
        },
        index_version={
            "version": version,
            "created_at": manifest.created_at,
            "completed_at": manifest.completed_at,
            "published_at": published[0].published_at if published else None,
            "built_by_run": manifest.run_id or None,
            "published_by_run": (published[0].run_id or None) if published else None,
            "live": bool(live and live.version == version),
            "content_hash": manifest.content_hash,
            "checks": {n: c.passed for n, c in registry.checks(version).items()},
        },
        model={"ref": manifest.model_ref, **manifest.model.model_dump(), "key": manifest.model.key},
    )


def visible_documents(
    policy: AccessPolicy, lookup: SnapshotLookup, readers: Readers
) -> dict[str, int]:
    """Documents per source that `readers` may see."""
    counts: dict[str, int] = {}
    for key in lookup.document_keys():
        source, document_id = key.split("/", 1)
        if policy.readable(source, document_id, readers):
            counts[source] = counts.get(source, 0) + 1
    return counts

"""Blocking checks on a build: they must pass before a version can be published."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rag_pipelines.index.manifest import CheckRecord
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.index.versions import utc_now
from rag_pipelines.pipeline.context import PipelineContext

NOT_EMPTY = "index_not_empty"
COUNTS_AGREE = "index_counts_agree"
BLOCKING_CHECKS = [NOT_EMPTY, COUNTS_AGREE]


@dataclass
class CheckOutcome:
    """A check's verdict with the numbers behind it."""

    name: str
    passed: bool
    detail: str
    metadata: dict[str, Any] = field(default_factory=dict)


def check_not_empty(ctx: PipelineContext, version: str) -> CheckOutcome:
    """A build with no chunks (or a source with no documents) must not replace a live index."""
    manifest = ctx.registry.manifest(version)
    empty = [name for name, s in manifest.sources.items() if s.chunks == 0]
    passed = manifest.chunks > 0 and not empty
    detail = "ok" if passed else f"sources with no chunks: {empty or 'all'}"
    return _record(
        ctx,
        version,
        CheckOutcome(
            NOT_EMPTY,
            passed,
            detail,
            {"chunks": manifest.chunks, "empty_sources": ", ".join(empty)},
        ),
    )


def check_counts_agree(ctx: PipelineContext, version: str, store: VectorStore) -> CheckOutcome:
    """Every chunk is in the vector index exactly once."""
    manifest = ctx.registry.manifest(version)
    stored = store.count(manifest.collection)
    per_source = sum(s.chunks for s in manifest.sources.values())
    passed = stored == manifest.chunks == per_source
    detail = (
        "ok"
        if passed
        else f"chunks={manifest.chunks}, per-source sum={per_source}, vectors stored={stored}"
    )
    meta = {"chunks": manifest.chunks, "vectors": stored, "per_source_sum": per_source}
    return _record(ctx, version, CheckOutcome(COUNTS_AGREE, passed, detail, meta))


def _record(ctx: PipelineContext, version: str, outcome: CheckOutcome) -> CheckOutcome:
    ctx.registry.record_check(
        version,
        CheckRecord(
            name=outcome.name, passed=outcome.passed, detail=outcome.detail, checked_at=utc_now()
        ),
    )
    return outcome

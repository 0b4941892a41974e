"""Blocking checks on a candidate version: they must pass before it can be published."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rag_pipelines.asset_graph import BLOCKING_CHECKS as BLOCKING_CHECKS
from rag_pipelines.asset_graph import INDEX_COUNTS_AGREE as COUNTS_AGREE
from rag_pipelines.asset_graph import INDEX_NOT_EMPTY as NOT_EMPTY
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.generation_view import version_store
from rag_pipelines.index.manifest import CheckRecord
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.index.versions import utc_now


@dataclass
class CheckOutcome:
    """A check's verdict with the numbers behind it."""

    name: str
    passed: bool  # whether publishing may go ahead (recorded in checks.json)
    detail: str
    metadata: dict[str, Any] = field(default_factory=dict)
    measured: bool = True  # False: nothing to measure against; never shown as a green pass

    @property
    def shown_passed(self) -> bool:
        """What the UI shows: a check that measured nothing has not passed."""
        return self.passed and self.measured

    @property
    def severity(self) -> str:
        """ERROR blocks what follows; WARN (nothing measured) flags it without blocking."""
        return "ERROR" if self.measured else "WARN"


def check_not_empty(ctx: PipelineContext, version: str) -> CheckOutcome:
    """A build with no chunks (or a source with no chunks) must not replace a live index."""
    manifest = ctx.registry.manifest(version)
    empty = [name for name, s in manifest.sources.items() if s.chunks == 0]
    passed = manifest.chunks > 0 and not empty
    detail = "ok" if passed else f"sources with no chunks: {empty or 'all'}"
    meta = {"chunks": manifest.chunks, "empty_sources": ", ".join(empty) or "none"}
    return record(ctx, version, CheckOutcome(NOT_EMPTY, passed, detail, meta))


def check_counts_agree(ctx: PipelineContext, version: str, store: VectorStore) -> CheckOutcome:
    """Every chunk is exactly once in each index: dense vectors, BM25 and the graph."""
    manifest = ctx.registry.manifest(version)
    store = version_store(store, manifest)
    counts = {
        "chunks": manifest.chunks,
        "per_source_sum": sum(s.chunks for s in manifest.sources.values()),
        "dense_vectors": store.count(manifest.collection),
        "bm25_points": store.count(manifest.bm25_collection),
        "graph_chunk_nodes": manifest.graph_chunks,
    }
    passed = len(set(counts.values())) == 1
    detail = "ok" if passed else ", ".join(f"{k}={v}" for k, v in counts.items())
    return record(ctx, version, CheckOutcome(COUNTS_AGREE, passed, detail, counts))


def record(ctx: PipelineContext, version: str, outcome: CheckOutcome) -> CheckOutcome:
    """Store a check's verdict beside the version (publishing reads it) and return it."""
    record = CheckRecord(
        name=outcome.name, passed=outcome.passed, detail=outcome.detail, checked_at=utc_now()
    )
    ctx.registry.record_check(version, record)
    return outcome

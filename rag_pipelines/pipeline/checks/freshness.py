"""Freshness: how long changes took to become servable, and how stale each source is."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from rag_pipelines.context import PipelineContext
from rag_pipelines.pipeline.build.documents import load_ledger
from rag_pipelines.pipeline.build.snapshot import snapshot_documents


def _seconds_between(start: str | None, end: str) -> float | None:
    if not start:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def staleness(
    ctx: PipelineContext, version: str, previous: str | None, published_at: str
) -> dict[str, float]:
    """End-to-end staleness of a publish: source change (file mtime) → servable (published).

    Added or edited documents count from their modification time; deleted ones from when the
    ledger noticed the deletion (a deleted file has no time of its own).
    """
    if previous:
        ctx.registry.fetch(previous)  # with shared state it may have been built elsewhere
    new = {(d.source, d.id): d for d in snapshot_documents(ctx, version)}
    old = (
        {(d.source, d.id): d.content_hash for d in snapshot_documents(ctx, previous)}
        if previous
        else {}
    )
    lags: list[float] = []
    changed = 0
    for key, doc in new.items():
        if old.get(key) != doc.content_hash:
            changed += 1
            lag = _seconds_between(doc.modified_at, published_at)
            if lag is not None:
                lags.append(max(0.0, lag))
    deleted = [k for k in old if k not in new]
    deleted_at = {
        (s.name, e.id): e.deleted_at for s in ctx.config.sources for e in load_ledger(ctx, s.name)
    }
    for key in deleted:
        lag = _seconds_between(deleted_at.get(key), published_at)
        if lag is not None:
            lags.append(max(0.0, lag))
    return {
        "documents_changed": float(changed),
        "documents_deleted": float(len(deleted)),
        "max_staleness_s": round(max(lags), 1) if lags else 0.0,
        "median_staleness_s": round(statistics.median(lags), 1) if lags else 0.0,
    }


@dataclass(frozen=True)
class SourceFreshness:
    """How long ago a source was last ingested, against its bar."""

    source: str
    last_ingest_at: str | None
    lag_hours: float | None
    max_lag_hours: float

    @property
    def fresh(self) -> bool:
        """Ingested within the allowed lag."""
        return self.lag_hours is not None and self.lag_hours <= self.max_lag_hours


def source_freshness(ctx: PipelineContext, source: str, now: str) -> SourceFreshness:
    """The freshness of one source, from its ledger's last-seen times."""
    ledger = load_ledger(ctx, source)
    last = max((e.last_seen_at for e in ledger), default=None)
    lag = _seconds_between(last, now)
    return SourceFreshness(
        source=source,
        last_ingest_at=last,
        lag_hours=round(lag / 3600, 3) if lag is not None else None,
        max_lag_hours=ctx.config.freshness_for(ctx.config.source(source)).max_lag_hours,
    )

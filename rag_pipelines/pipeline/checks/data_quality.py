"""Data-quality check of a candidate version: what is wrong, and in which documents."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag_pipelines.context import PipelineContext
from rag_pipelines.pipeline.build.documents import load_failures
from rag_pipelines.pipeline.build.snapshot import load_snapshot, snapshot_chunks, snapshot_documents

MAX_DUPLICATE_RATE = 0.2  # above this share of chunks repeating another's text, something is off


@dataclass
class DataQuality:
    """Findings; `blocking` ones stop publishing, `warnings` are shown but do not."""

    blocking: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


def inspect_version(
    ctx: PipelineContext, version: str, token_limit: int | None = None
) -> DataQuality:
    """Empty/oversized chunks, duplicates, vector dimension and NaNs, orphans, parse failures."""
    found = DataQuality()
    snapshot = load_snapshot(ctx, version)
    chunks = snapshot_chunks(ctx, version)
    documents = {(d.source, d.id) for d in snapshot_documents(ctx, version)}
    empty = [c for c in chunks if not c.text.strip()]
    oversized = [c for c in chunks if c.token_count > (token_limit or _limit(c.chunker))]
    repeats = Counter(c.text_hash for c in chunks)
    duplicates = sum(n - 1 for n in repeats.values() if n > 1)
    duplicate_ids = len(chunks) - len({c.id for c in chunks})
    orphans = [c for c in chunks if (c.source, c.document_id) not in documents]
    chunked_docs = {(c.source, c.document_id) for c in chunks}
    chunkless = sorted(f"{s}/{d}" for s, d in documents - chunked_docs)

    cache = ctx.embedding_cache()
    try:
        vectors = cache.get(snapshot.model.key, (c.text_hash for c in chunks))
    finally:
        cache.close()
    missing = [c for c in chunks if c.text_hash not in vectors]
    wrong_dim = [h for h, v in vectors.items() if v.shape[0] != snapshot.model.dimension]
    nan = [h for h, v in vectors.items() if not np.all(np.isfinite(v))]
    failures = [f for s in ctx.config.sources for f in load_failures(ctx, s.name)]

    def where(items: list[Any]) -> str:
        names = sorted({f"{c.source}/{c.document_id}" for c in items})
        return ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")

    if empty:
        found.blocking.append(f"{len(empty)} empty chunk(s) in {where(empty)}")
    if oversized:
        found.blocking.append(
            f"{len(oversized)} chunk(s) over their token limit in {where(oversized)}"
        )
    if duplicate_ids:
        found.blocking.append(f"{duplicate_ids} duplicate chunk id(s)")
    if orphans:
        found.blocking.append(
            f"{len(orphans)} orphan chunk(s) without a document: {where(orphans)}"
        )
    if missing:
        found.blocking.append(f"{len(missing)} chunk(s) without a vector in {where(missing)}")
    if wrong_dim:
        found.blocking.append(
            f"{len(wrong_dim)} vector(s) not of dimension {snapshot.model.dimension}"
        )
    if nan:
        found.blocking.append(f"{len(nan)} vector(s) with NaN or infinite values")
    rate = duplicates / len(chunks) if chunks else 0.0
    if rate > MAX_DUPLICATE_RATE:
        found.warnings.append(f"{rate:.1%} of chunks repeat another chunk's text")
    if chunkless:
        found.warnings.append(
            f"{len(chunkless)} document(s) produced no chunks: {', '.join(chunkless[:5])}"
        )
    suspects = [c for c in chunks if c.injection_signals]
    if suspects:
        found.warnings.append(
            f"{len(suspects)} chunk(s) look like prompt injection (flagged in their payload): "
            f"{where(suspects)}"
        )
    redacted = sum(
        int(d.metadata.get("pii_redactions", 0) or 0) for d in snapshot_documents(ctx, version)
    )
    if failures:
        reasons = "; ".join(f"{f.source}/{f.document_id}: {f.reason[:80]}" for f in failures[:5])
        found.warnings.append(f"{len(failures)} document(s) failed to parse: {reasons}")
    found.metrics = {
        "chunks": len(chunks),
        "empty_chunks": len(empty),
        "oversized_chunks": len(oversized),
        "duplicate_text_rate": round(rate, 4),
        "duplicate_chunk_ids": duplicate_ids,
        "orphan_chunks": len(orphans),
        "documents_without_chunks": len(chunkless),
        "vectors_missing": len(missing),
        "vectors_wrong_dimension": len(wrong_dim),
        "vectors_non_finite": len(nan),
        "failed_documents": len(failures),
        "injection_suspect_chunks": len(suspects),
        "pii_redactions": redacted,
    }
    return found


def _limit(label: str) -> int:
    """The token limit a chunker label promises: min(size, model max)."""
    fields = dict(part.split("=", 1) for part in label.split("/") if "=" in part)
    values = [int(fields[k]) for k in ("size", "max") if fields.get(k, "").isdigit()]
    return min(values) if values else 1 << 30

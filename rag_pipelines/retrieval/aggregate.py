"""Chunk rankings → document rankings: how a document's chunk hits combine (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from rag_pipelines.config.models import FusionSettings
from rag_pipelines.retrieval.fusion import Fused, fuse_rankings

Aggregation = Literal["max", "sum", "rrf"]


def document_scores(
    ids: Sequence[str],
    scores: Mapping[str, float],
    doc_of: Mapping[str, str],
    method: Aggregation = "max",
    top: int = 2,
    k: int = 60,
) -> dict[str, float]:
    """Each document's score from its chunks in one ranking (`ids`, best first).

    max: its best chunk's score; sum: the sum of its `top` best chunks' scores; rrf: the sum of
    1/(k + rank) over its `top` best chunks (rank-based, so legs with unlike scores compare).
    Chunks without a document are skipped.
    """
    out: dict[str, float] = {}
    counted: dict[str, int] = {}
    for rank, chunk_id in enumerate(ids, start=1):
        doc = doc_of.get(chunk_id)
        if doc is None:
            continue
        n = counted.get(doc, 0)
        if method == "max":
            if n == 0:
                out[doc] = scores.get(chunk_id, 0.0)
        elif n < top:
            value = scores.get(chunk_id, 0.0) if method == "sum" else 1.0 / (k + rank)
            out[doc] = out.get(doc, 0.0) + value
        counted[doc] = n + 1
    return out


def document_ranking(
    ids: Sequence[str],
    scores: Mapping[str, float],
    doc_of: Mapping[str, str],
    method: Aggregation = "max",
    top: int = 2,
    k: int = 60,
) -> list[str]:
    """Document ids best first (ties: the document whose best chunk ranks first)."""
    values = document_scores(ids, scores, doc_of, method, top, k)
    first: dict[str, int] = {}
    for rank, chunk_id in enumerate(ids):
        doc = doc_of.get(chunk_id)
        if doc is not None:
            first.setdefault(doc, rank)
    return sorted(values, key=lambda d: (-values[d], first[d]))


def chunks_by_document(
    doc_order: Sequence[str], chunk_order: Sequence[str], doc_of: Mapping[str, str]
) -> list[str]:
    """Chunks grouped by document in `doc_order`, each group in `chunk_order`'s order."""
    groups: dict[str, list[str]] = {d: [] for d in doc_order}
    for chunk_id in chunk_order:
        doc = doc_of.get(chunk_id)
        if doc in groups:
            groups[doc].append(chunk_id)
    return [c for d in doc_order for c in groups[d]]


def fuse_by_document(
    legs: Mapping[str, tuple[Sequence[str], Mapping[str, float]]],
    doc_of: Mapping[str, str],
    chunk_order: Sequence[Fused],
    weights: Mapping[str, float],
    k: int,
    method: Aggregation,
    top: int,
) -> list[Fused]:
    """Document-level fusion: each leg's document ranking, RRF over them, chunks grouped.

    `chunk_order` is the chunk-level fusion; a document's chunks keep its order and carry the
    document's fused score, so a caller reading the first chunk per document gets the
    document ranking.
    """
    rankings = {
        name: document_ranking(ids, scores, doc_of, method, top, k)
        for name, (ids, scores) in legs.items()
    }
    documents = fuse_rankings(rankings, weights, k)
    by_id = {f.id: f for f in chunk_order}
    ordered = chunks_by_document([d.id for d in documents], list(by_id), doc_of)
    score = {d.id: d.score for d in documents}
    return [Fused(c, score[doc_of[c]], by_id[c].ranks) for c in ordered]


def minmax_documents(
    legs: Mapping[str, tuple[Sequence[str], Mapping[str, float]]],
    doc_of: Mapping[str, str],
    weights: Mapping[str, float],
    depth: int = 100,
) -> dict[str, float]:
    """CombSUM: Σ_leg weight · min-max normalised best-chunk score over each leg's top documents.

    Returns document → fused score in descending order (ties keep first-seen order).
    """
    total: dict[str, float] = {}
    for name, (ids, scores) in legs.items():
        docs = document_scores(ids, scores, doc_of, "max")
        top = sorted(docs.items(), key=lambda kv: -kv[1])[:depth]
        if not top:
            continue
        hi, lo = top[0][1], top[-1][1]
        for doc, value in top:
            norm = (value - lo) / (hi - lo) if hi > lo else 1.0
            total[doc] = total.get(doc, 0.0) + weights.get(name, 1.0) * norm
    return dict(sorted(total.items(), key=lambda kv: -kv[1]))


def fuse_legs(
    legs: Mapping[str, tuple[Sequence[str], Mapping[str, float]]],
    doc_of: Mapping[str, str],
    weights: Mapping[str, float],
    fusion: FusionSettings,
) -> list[Fused]:
    """The hybrid order of `fusion`: chunk-level RRF, document-level RRF or min-max CombSUM."""
    chunks = fuse_rankings({name: ids for name, (ids, _) in legs.items()}, weights, fusion.k)
    if fusion.method == "minmax":
        documents = minmax_documents(legs, doc_of, weights)
        by_id = {f.id: f for f in chunks}
        ordered = chunks_by_document(list(documents), list(by_id), doc_of)
        return [Fused(c, documents[doc_of[c]], by_id[c].ranks) for c in ordered]
    if fusion.aggregate == "chunk":
        return chunks
    return fuse_by_document(
        legs, doc_of, chunks, weights, fusion.k, fusion.aggregate, fusion.aggregate_top
    )

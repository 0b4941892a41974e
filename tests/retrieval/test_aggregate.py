"""Chunk hits → documents: max, sum of top chunks and rank-based sum."""

from __future__ import annotations

import pytest

from rag_pipelines.config.models import FusionSettings
from rag_pipelines.retrieval.aggregate import (
    chunks_by_document,
    document_ranking,
    document_scores,
    fuse_legs,
    minmax_documents,
)

DOC_OF = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "c1": "C"}
IDS = ["b1", "a1", "a2", "c1", "a3"]
SCORES = {"b1": 0.9, "a1": 0.8, "a2": 0.7, "c1": 0.5, "a3": 0.4}


def test_max_is_the_best_chunk() -> None:
    """max: a document scores its best chunk; order as today's best-chunk rule."""
    assert document_scores(IDS, SCORES, DOC_OF, "max") == {"B": 0.9, "A": 0.8, "C": 0.5}
    assert document_ranking(IDS, SCORES, DOC_OF, "max") == ["B", "A", "C"]


def test_sum_adds_the_top_chunks_only() -> None:
    """sum with top 2: A = 0.8 + 0.7 (its third chunk is not counted) and overtakes B."""
    assert document_scores(IDS, SCORES, DOC_OF, "sum", top=2) == pytest.approx(
        {"B": 0.9, "A": 1.5, "C": 0.5}
    )
    assert document_ranking(IDS, SCORES, DOC_OF, "sum", top=3) == ["A", "B", "C"]


def test_rrf_sums_reciprocal_ranks() -> None:
    """rrf: Σ 1/(k + rank) over a document's top chunks, ignoring raw scores."""
    values = document_scores(IDS, {}, DOC_OF, "rrf", top=2, k=1)
    assert values == pytest.approx({"B": 1 / 2, "A": 1 / 3 + 1 / 4, "C": 1 / 5})


def test_chunks_without_document_are_skipped_and_ties_keep_first_rank() -> None:
    """An unknown chunk is ignored; equal scores order by the better first chunk."""
    ids = ["x", "c1", "b1"]
    ranking = document_ranking(ids, {"x": 9.0, "c1": 1.0, "b1": 1.0}, DOC_OF, "max")
    assert ranking == ["C", "B"]


def test_chunks_by_document_groups_in_document_order() -> None:
    """Chunks follow their documents' order, each group in the chunk order given."""
    assert chunks_by_document(["A", "C"], IDS, DOC_OF) == ["a1", "a2", "a3", "c1"]


def test_minmax_documents_sums_normalised_best_chunk_scores() -> None:
    """Each leg's best-chunk scores scaled to [0, 1] over its documents, weighted, summed."""
    legs = {
        "dense": (["b1", "a1", "c1"], {"b1": 0.9, "a1": 0.8, "c1": 0.5}),
        "bm25": (["c1", "a2"], {"c1": 12.0, "a2": 4.0}),
    }
    fused = minmax_documents(legs, DOC_OF, {"dense": 1.0, "bm25": 2.0})
    assert fused == pytest.approx({"C": 0.0 + 2.0, "B": 1.0, "A": 0.75 + 0.0})
    assert list(fused) == ["C", "B", "A"]


def test_fuse_legs_minmax_groups_chunks_under_the_document_order() -> None:
    """fusion.method minmax: documents in CombSUM order, their chunks in chunk-RRF order."""
    legs = {
        "dense": (["b1", "a1", "c1"], {"b1": 0.9, "a1": 0.8, "c1": 0.5}),
        "bm25": (["c1", "a2"], {"c1": 12.0, "a2": 4.0}),
    }
    fusion = FusionSettings(method="minmax", weights={"dense": 1.0, "bm25": 2.0})
    fused = fuse_legs(legs, DOC_OF, {"dense": 1.0, "bm25": 2.0}, fusion)
    assert [f.id for f in fused] == ["c1", "b1", "a2", "a1"]  # A: a2 leads its RRF order
    assert fused[0].score == pytest.approx(2.0) and fused[0].ranks == {"dense": 3, "bm25": 1}

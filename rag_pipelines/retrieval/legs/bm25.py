"""The BM25 leg: the query's term weights against the version's sparse vectors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from rag_pipelines.config.legs import register
from rag_pipelines.index.access import can_read
from rag_pipelines.index.vector_store import SparseVector
from rag_pipelines.retrieval.legs.base import LegQuery, LegResult
from rag_pipelines.retrieval.prf import expand, weighted_query_vector

if TYPE_CHECKING:
    from rag_pipelines.retrieval.engine import VersionIndex


class Bm25Leg:
    """Okapi BM25, precomputed into sparse vectors and searched by Qdrant."""

    name = "bm25"
    weight = 1.0
    ranks_text = True

    def needs(self, index: VersionIndex) -> tuple[str, ...]:
        """Nothing."""
        return ()

    def run(
        self, index: VersionIndex, query: LegQuery, prior: Mapping[str, LegResult]
    ) -> LegResult:
        """The best `limit` chunks by BM25; with RM3 on, the second pass of the expanded query."""
        terms = index.tokenize(query.text)
        indices, values = index.bm25.query_vector(terms)
        result = _search(index, query, indices, values)
        if index.prf.enabled and result.ids:  # RM3 re-query (retrieval/prf.py)
            feedback = [
                (index.tokenize(index.passage(c) or ""), s)
                for c, s in zip(
                    result.ids[: index.prf.fb_docs], result.scores.tolist(), strict=False
                )
            ]
            weights = expand(index.prf, terms, feedback)
            result = _search(index, query, *weighted_query_vector(index.bm25, weights))
        return result


def _search(
    index: VersionIndex, query: LegQuery, indices: list[int], values: list[float]
) -> LegResult:
    """Sparse search with the idf of the chunks the caller's readers may read."""
    stats, readers = index.bm25_access, query.readers
    if stats is not None and readers is not None and not index.access.open_to(readers):
        visible = frozenset(c for c in stats.documents if can_read(c, readers))
        values = stats.query_weights(index.bm25, indices, values, visible)
    hits = index.store.search_sparse(
        index.manifest.bm25_collection,
        SparseVector(indices, values),
        query.limit,
        query.flt,
        ids_only=True,
    )
    return LegResult([h.chunk_id for h in hits], np.array([h.score for h in hits]))


register(Bm25Leg())

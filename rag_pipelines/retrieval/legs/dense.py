"""The dense leg: nearest chunks by embedding in the version's Qdrant collection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from rag_pipelines.config.legs import register
from rag_pipelines.retrieval.legs.base import LegQuery, LegResult

if TYPE_CHECKING:
    from rag_pipelines.retrieval.engine import VersionIndex


class DenseLeg:
    """Cosine similarity of the query's embedding to every chunk's."""

    name = "dense"
    weight = 1.0
    ranks_text = True

    def needs(self, index: VersionIndex) -> tuple[str, ...]:
        """Nothing."""
        return ()

    def run(
        self, index: VersionIndex, query: LegQuery, prior: Mapping[str, LegResult]
    ) -> LegResult:
        """The nearest `limit` chunks."""
        hits = index.store.search(
            index.manifest.collection, query.vector, query.limit, query.flt, ids_only=True
        )
        return LegResult([h.chunk_id for h in hits], np.array([h.score for h in hits]))


register(DenseLeg())

"""What a retrieval leg is: a Protocol, its query and its result (ids and scores only)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np

from rag_pipelines.config.legs import legs
from rag_pipelines.index.access import Readers
from rag_pipelines.index.graph_walk import GraphWalker
from rag_pipelines.index.vector_store import PayloadFilter

if TYPE_CHECKING:
    from rag_pipelines.retrieval.engine import VersionIndex


@dataclass
class LegResult:
    """One leg's ranking: chunk ids best first and their scores (payloads come later, once)."""

    ids: list[str]
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def empty(cls) -> LegResult:
        """No hits."""
        return cls([], np.zeros(0))

    def score_of(self) -> dict[str, float]:
        """chunk id → score (the first listing of an id counts)."""
        out: dict[str, float] = {}
        for chunk_id, score in zip(self.ids, self.scores.tolist(), strict=True):
            out.setdefault(chunk_id, score)
        return out


@dataclass
class LegQuery:
    """A query as the legs see it; the vector is computed on first use and kept."""

    text: str
    limit: int
    flt: PayloadFilter | None
    walker: GraphWalker | None
    embed: Callable[[str], np.ndarray]
    _vector: np.ndarray | None = None
    readers: Readers = None  # the caller's groups (None: everything); BM25 idf follows them

    @property
    def vector(self) -> np.ndarray:
        """The query's embedding."""
        if self._vector is None:
            self._vector = self.embed(self.text)
        return self._vector


class Leg(Protocol):
    """A retrieval leg: ranks chunks of one version for a query."""

    name: str
    weight: float  # default fusion weight
    ranks_text: bool  # ranks by the query alone; fusion needs one such leg weighted

    def needs(self, index: VersionIndex) -> tuple[str, ...]:
        """The legs whose results this one reads (run before it)."""
        ...

    def run(
        self, index: VersionIndex, query: LegQuery, prior: Mapping[str, LegResult]
    ) -> LegResult:
        """Chunk ids best first, with scores, at most `query.limit`."""
        ...


def registered_legs() -> dict[str, Leg]:
    """The registry's legs as the full protocol (the config layer knows only their names)."""
    return cast(dict[str, Leg], legs())

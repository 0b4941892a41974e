"""The graph leg: a walk from the query's key phrases and the other legs' top hits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rag_pipelines.config.legs import register
from rag_pipelines.index.graph_build import chunk_node
from rag_pipelines.index.phrases import candidate_phrases
from rag_pipelines.retrieval.filters import matches
from rag_pipelines.retrieval.legs.base import LegQuery, LegResult

if TYPE_CHECKING:
    from rag_pipelines.retrieval.engine import VersionIndex

SEEDED_BY = ("dense", "bm25")


class GraphLeg:
    """Personalized PageRank over chunks, documents and phrases."""

    name = "graph"
    weight = 0.5
    ranks_text = False  # it reads the other legs' hits

    def needs(self, index: VersionIndex) -> tuple[str, ...]:
        """The legs whose top hits seed the walk (none when seed_hits is 0)."""
        return SEEDED_BY if index.seed_hits else ()

    def run(
        self, index: VersionIndex, query: LegQuery, prior: Mapping[str, LegResult]
    ) -> LegResult:
        """Reached chunks by visit probability; `query.walker` is the caller's view of the graph."""
        walker = query.walker or index.walker
        seeds: dict[int, float] = {}
        for phrase in set(candidate_phrases(query.text, index.max_phrase_words)):
            for i in walker.phrases.get(phrase, ()):  # its node in every access layer
                seeds[i] = 1.0 + phrase.count(" ")
        for name in SEEDED_BY:
            if name in prior:
                for rank, chunk_id in enumerate(prior[name].ids[: index.seed_hits], start=1):
                    if (node := walker.index.get(chunk_node(chunk_id))) is not None:
                        seeds[node] = seeds.get(node, 0.0) + 1.0 / rank
        flt = query.flt
        filtered = flt is not None and not flt.empty
        nodes, scores = walker.walk_top(
            seeds, index.walk_steps, index.restart, query.limit * (3 if filtered else 1)
        )
        ids = [walker.nodes[i][2:] for i in nodes.tolist()]
        if filtered:  # graph hits do not come from Qdrant: apply the filter to their payloads
            payloads = index.store.retrieve(index.manifest.collection, ids)
            keep = [i for i, c in enumerate(ids) if c in payloads and matches(payloads[c], flt)]
            keep = keep[: query.limit]
            return LegResult([ids[i] for i in keep], scores[keep])
        return LegResult(ids, scores)


register(GraphLeg())

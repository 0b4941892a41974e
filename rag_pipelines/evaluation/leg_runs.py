"""Every leg of a version run once per golden-set query, for every mode and for fusion tuning."""

from __future__ import annotations

from dataclasses import dataclass, field

from rag_pipelines.config.legs import HYBRID
from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.index.vector_store import PayloadFilter
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.legs.base import LegResult
from rag_pipelines.retrieval.models import Mode

DEPTH = 100  # documents per query in a run
CANDIDATES = DEPTH * 3  # chunks asked for: several chunks can come from one document
ENCODE_BATCH = 256


@dataclass
class LegRuns:
    """query id → leg → result at CANDIDATES deep, and chunk id → document id."""

    index: VersionIndex
    results: dict[str, dict[str, LegResult]]
    documents: dict[str, str]
    texts: dict[str, str] = field(default_factory=dict)  # query id → text (learned weights)

    def document_run(self, mode: Mode, depth: int = DEPTH) -> dict[str, dict[str, float]]:
        """query id → {document: score} for one mode, as a search of CANDIDATES chunks gives it."""
        run: dict[str, dict[str, float]] = {}
        for query_id, legs in self.results.items():
            ordered = self.index.rank(mode, legs, CANDIDATES, self.texts.get(query_id, ""))
            seen: dict[str, float] = {}
            for chunk_id, _, _ in ordered:
                doc = self.documents.get(chunk_id)
                if doc is not None and doc not in seen:
                    seen[doc] = float(CANDIDATES - len(seen))
            run[query_id] = dict(list(seen.items())[:depth])
        return run

    def rankings(self, depth: int = DEPTH) -> dict[str, dict[str, list[str]]]:
        """query id → leg → its first `depth` chunk ids (the legs as a search at `depth` runs
        them: a leg's order does not depend on how deep it is asked)."""
        return {
            query_id: {name: result.ids[:depth] for name, result in legs.items()}
            for query_id, legs in self.results.items()
        }


def run_legs(index: VersionIndex, golden: GoldenSet, source: str | None) -> LegRuns:
    """Queries encoded in batches, then every leg once per query."""
    flt = PayloadFilter(sources=(source,)) if source else None
    ids, texts = list(golden.queries), list(golden.queries.values())
    results: dict[str, dict[str, LegResult]] = {}
    for start in range(0, len(texts), ENCODE_BATCH):
        batch = texts[start : start + ENCODE_BATCH]
        vectors = index.encode_many(batch)
        for offset, (text, vector) in enumerate(zip(batch, vectors, strict=True)):
            results[ids[start + offset]] = index.run_legs(
                text, HYBRID, CANDIDATES, flt, None, vector
            )
    return LegRuns(index, results, index.lookup.chunk_documents(), dict(golden.queries))

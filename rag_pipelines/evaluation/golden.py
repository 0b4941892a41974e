"""Golden sets: BEIR-format queries and judgements, split deterministically into tune/holdout."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from rag_pipelines.beir import read_qrels, read_queries
from rag_pipelines.hashing import sha256_text


@dataclass(frozen=True)
class GoldenSet:
    """Queries with their relevant document ids (graded relevance allowed)."""

    name: str
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    def subset(self, query_ids: list[str], name: str) -> GoldenSet:
        """The same set restricted to some queries."""
        keep = [q for q in query_ids if q in self.queries]
        return GoldenSet(name, {q: self.queries[q] for q in keep}, {q: self.qrels[q] for q in keep})

    def without(self, documents: Collection[str]) -> tuple[GoldenSet, list[StaleJudgement]]:
        """The set minus judgements of `documents` (a query left with none is dropped), and
        the judgements it set aside."""
        stale: list[StaleJudgement] = []
        qrels: dict[str, dict[str, int]] = {}
        for query_id, judged in self.qrels.items():
            kept = {d: g for d, g in judged.items() if d not in documents}
            stale += [StaleJudgement(self.name, query_id, d) for d in judged if d in documents]
            if kept:
                qrels[query_id] = kept
        if not stale:
            return self, []
        queries = {q: t for q, t in self.queries.items() if q in qrels}
        return GoldenSet(self.name, queries, qrels), stale

    def split(self, holdout_fraction: float, seed: int = 13) -> tuple[GoldenSet, GoldenSet]:
        """(tune, holdout) by a hash of each query id: stable across runs and machines."""
        tune: list[str] = []
        holdout: list[str] = []
        for query_id in sorted(self.queries):
            bucket = int(sha256_text(str(seed), query_id)[:8], 16) / 0xFFFFFFFF
            (holdout if bucket < holdout_fraction else tune).append(query_id)
        return self.subset(tune, f"{self.name}:tune"), self.subset(holdout, f"{self.name}:holdout")


@dataclass(frozen=True)
class StaleJudgement:
    """A golden-set judgement whose document no longer exists at its source."""

    set_name: str
    query_id: str
    document_id: str

    def label(self) -> str:
        """`set/query → document`, as the check and `status` show it."""
        return f"{self.set_name}/{self.query_id} → {self.document_id}"


def load_beir(queries_path: Path, qrels_path: Path, name: str = "golden") -> GoldenSet:
    """A golden set from BEIR queries and qrels: the queries that have a judgement."""
    texts = read_queries(queries_path)
    qrels = read_qrels(qrels_path)
    judged = {q: t for q, t in texts.items() if q in qrels}
    return GoldenSet(name, judged, {q: dict(qrels[q]) for q in judged})

"""Golden sets: BEIR-format queries and judgements, split deterministically into tune/holdout."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

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

    def split(self, holdout_fraction: float, seed: int = 13) -> tuple[GoldenSet, GoldenSet]:
        """(tune, holdout) by a hash of each query id: stable across runs and machines."""
        tune: list[str] = []
        holdout: list[str] = []
        for query_id in sorted(self.queries):
            bucket = int(sha256_text(str(seed), query_id)[:8], 16) / 0xFFFFFFFF
            (holdout if bucket < holdout_fraction else tune).append(query_id)
        return self.subset(tune, f"{self.name}:tune"), self.subset(holdout, f"{self.name}:holdout")


def load_beir(queries_path: Path, qrels_path: Path, name: str = "golden") -> GoldenSet:
    """Queries (jsonl: _id, text) and qrels (tsv: query-id, corpus-id, score) with a header."""
    texts: dict[str, str] = {}
    with queries_path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                texts[str(record["_id"])] = str(record["text"])
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with qrels_path.open(encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            parts = line.rstrip("\n").split("\t")
            if i == 0 and not parts[-1].lstrip("-").isdigit():
                continue  # header
            if len(parts) >= 3 and int(parts[2]) > 0:
                qrels[parts[0]][parts[1]] = int(parts[2])
    judged = {q: t for q, t in texts.items() if q in qrels}
    return GoldenSet(name, judged, {q: dict(qrels[q]) for q in judged})

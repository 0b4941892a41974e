"""Read the BEIR SciFact files for tests (queries, judgements, a corpus slice)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path


def load_qrels(root: Path, split: str = "train") -> dict[str, set[str]]:
    """query id → relevant corpus ids."""
    qrels: dict[str, set[str]] = defaultdict(set)
    with (root / "qrels" / f"{split}.tsv").open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            query_id, corpus_id, score = line.rstrip("\n").split("\t")
            if int(score) > 0:
                qrels[query_id].add(corpus_id)
    return dict(qrels)


def load_queries(root: Path) -> dict[str, str]:
    """query id → text, in file order."""
    with (root / "queries.jsonl").open(encoding="utf-8") as handle:
        return {str(r["_id"]): str(r["text"]) for r in map(json.loads, handle)}


def corpus_ids(root: Path) -> list[str]:
    """Every corpus id, in file order."""
    with (root / "corpus.jsonl").open(encoding="utf-8") as handle:
        return [str(json.loads(line)["_id"]) for line in handle if line.strip()]


def judged_slice(
    root: Path, queries: int, size: int
) -> tuple[dict[str, str], dict[str, set[str]], list[str]]:
    """The first `queries` judged queries, and `size` corpus ids that include all their answers."""
    qrels = load_qrels(root)
    texts = load_queries(root)
    chosen = [q for q in texts if q in qrels][:queries]
    relevant = {q: qrels[q] for q in chosen}
    ids = sorted({d for docs in relevant.values() for d in docs})
    for doc_id in corpus_ids(root):
        if len(ids) >= size:
            break
        if doc_id not in ids:
            ids.append(doc_id)
    return {q: texts[q] for q in chosen}, relevant, ids

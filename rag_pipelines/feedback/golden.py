"""Turn feedback into a BEIR-format golden set (queries.jsonl + qrels tsv)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from rag_pipelines.beir import write_qrels, write_queries
from rag_pipelines.feedback.store import FeedbackRecord
from rag_pipelines.hashing import sha256_text

MIN_QUERIES = 1


@dataclass
class FeedbackSet:
    """What was written."""

    queries: int
    judgements: int
    relevant: int
    queries_path: Path
    qrels_path: Path


def write_feedback_set(records: list[FeedbackRecord], folder: Path) -> FeedbackSet:
    """Queries judged useful at least once, with the useful hits' documents as relevant.

    The latest judgement of a (query, document) pair wins, so a user can correct themselves.
    """
    latest: dict[tuple[str, str], bool] = {}
    for record in records:
        if record.document_id:
            latest[(" ".join(record.query.split()), record.document_id)] = record.useful
    relevant: dict[str, set[str]] = defaultdict(set)
    for (query, document_id), useful in latest.items():
        if useful:
            relevant[query].add(document_id)
    folder.mkdir(parents=True, exist_ok=True)
    queries_path, qrels_path = folder / "queries.jsonl", folder / "qrels.tsv"
    ids = {query: "fb-" + sha256_text(query)[:12] for query in sorted(relevant)}
    write_queries(queries_path, {ids[query]: query for query in ids})
    write_qrels(qrels_path, {ids[q]: dict.fromkeys(sorted(relevant[q]), 1) for q in ids})
    return FeedbackSet(
        queries=len(relevant),
        judgements=len(records),
        relevant=sum(len(d) for d in relevant.values()),
        queries_path=queries_path,
        qrels_path=qrels_path,
    )

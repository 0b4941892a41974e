"""The BEIR format, read and written in one place: corpus.jsonl, queries.jsonl, qrels/*.tsv.

corpus.jsonl: one JSON object a line with `_id`, `title`, `text`; queries.jsonl: `_id`, `text`;
qrels: tab-separated `query-id, corpus-id, score` with a header line.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

CORPUS = "corpus.jsonl"
QUERIES = "queries.jsonl"
QRELS_HEADER = "query-id\tcorpus-id\tscore\n"


@dataclass(frozen=True)
class CorpusRecord:
    """One corpus line: its id, title and text, and the line it came from."""

    id: str
    title: str
    text: str
    line_no: int
    size_bytes: int


@dataclass(frozen=True)
class BadRecord:
    """A corpus line that is not a JSON object with an `_id`."""

    line_no: int
    reason: str
    error_type: str


def read_corpus(path: Path) -> Iterator[CorpusRecord | BadRecord]:
    """Every non-blank line of a corpus.jsonl, in order; bad lines come back as BadRecord."""
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict) or "_id" not in record:
                    raise ValueError('expected a JSON object with an "_id"')
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                yield BadRecord(line_no, f"bad BEIR record: {exc}", type(exc).__name__)
                continue
            yield CorpusRecord(
                id=str(record["_id"]),
                title=str(record.get("title") or ""),
                text=str(record.get("text") or ""),
                line_no=line_no,
                size_bytes=len(line.encode("utf-8")),
            )


def read_queries(path: Path) -> dict[str, str]:
    """query id → text, in file order."""
    texts: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                texts[str(record["_id"])] = str(record["text"])
    return texts


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query id → {corpus id: grade} for every judgement with a grade above 0."""
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with path.open(encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            parts = line.rstrip("\n").split("\t")
            if i == 0 and not parts[-1].lstrip("-").isdigit():
                continue  # header
            if len(parts) >= 3 and int(parts[2]) > 0:
                qrels[parts[0]][parts[1]] = int(parts[2])
    return dict(qrels)


def write_corpus(path: Path, records: Iterable[tuple[str, str, str]]) -> None:
    """A corpus.jsonl from (id, title, text) triples."""
    with path.open("w", encoding="utf-8") as handle:
        for doc_id, title, text in records:
            handle.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")


def write_queries(path: Path, queries: Mapping[str, str]) -> None:
    """A queries.jsonl from query id → text."""
    with path.open("w", encoding="utf-8") as handle:
        for query_id, text in queries.items():
            handle.write(json.dumps({"_id": query_id, "text": text}) + "\n")


def write_qrels(path: Path, qrels: Mapping[str, Mapping[str, int]]) -> None:
    """A qrels tsv (with its header) from query id → {corpus id: grade}."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write(QRELS_HEADER)
        for query_id, docs in qrels.items():
            for doc_id, grade in docs.items():
                handle.write(f"{query_id}\t{doc_id}\t{grade}\n")

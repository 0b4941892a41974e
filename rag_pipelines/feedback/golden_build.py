"""Build a BEIR golden set from judged questions: a CSV (question → document ids) and feedback.

Ids are checked against the published index, so a typo cannot make the quality gate measure
nothing: an unknown id is an error naming it (with the closest known id).
"""

from __future__ import annotations

import csv
import difflib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rag_pipelines.beir import write_qrels, write_queries
from rag_pipelines.errors import RagPipelinesError
from rag_pipelines.feedback.store import FeedbackRecord
from rag_pipelines.hashing import sha256_text

Judged = dict[str, set[str]]  # question → document keys (source/document_id)
ID_SEPARATOR = ";"


class GoldenInputError(RagPipelinesError):
    """The judgements cannot become a golden set; the message lists every problem."""


@dataclass
class GoldenSetFiles:
    """What was written, and the sources.yaml entry that uses it."""

    queries_path: Path
    qrels_path: Path
    queries: int
    relevant: int
    source: str | None  # the one source all ids belong to, else None
    skipped: list[str] = field(default_factory=list)  # questions with no useful document


def _question(text: str) -> str:
    return " ".join(text.split())


def read_csv(path: Path) -> tuple[dict[str, list[str]], list[str]]:
    """question → ids from a CSV with a `question` column and a `document_ids` (or
    `document_id`) column of ids separated by ';'; rows of one question merge."""
    judged: dict[str, list[str]] = defaultdict(list)
    problems: list[str] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = set(reader.fieldnames or [])
            id_column = next((c for c in ("document_ids", "document_id") if c in columns), None)
            if "question" not in columns or id_column is None:
                raise GoldenInputError(
                    f"{path}: the header must name the columns question and document_ids "
                    f"(found {sorted(columns)})"
                )
            for row in reader:
                question = _question(row.get("question") or "")
                ids = [i.strip() for i in (row.get(id_column) or "").split(ID_SEPARATOR)]
                ids = [i for i in ids if i]
                if not question or not ids:
                    problems.append(f"{path} line {reader.line_num}: needs a question and an id")
                    continue
                judged[question].extend(ids)
    except OSError as exc:
        raise GoldenInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return dict(judged), problems


def from_feedback(records: Iterable[FeedbackRecord]) -> Judged:
    """Questions with the documents of hits judged useful (a pair's latest judgement wins)."""
    latest: dict[tuple[str, str], bool] = {}
    for r in records:
        if r.source and r.document_id:
            latest[(_question(r.query), f"{r.source}/{r.document_id}")] = r.useful
    judged: Judged = defaultdict(set)
    for (question, key), useful in latest.items():
        if useful:
            judged[question].add(key)
    return dict(judged)


def resolve(raw: dict[str, list[str]], document_keys: Iterable[str]) -> tuple[Judged, list[str]]:
    """Each id as a document key: `source/id` as is, or a bare id found in exactly one source."""
    keys = set(document_keys)
    by_id: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        by_id[key.split("/", 1)[1]].append(key)
    judged: Judged = defaultdict(set)
    problems: list[str] = []
    for question, ids in raw.items():
        for given in ids:
            found = [given] if given in keys else by_id.get(given, [])
            if len(found) == 1:
                judged[question].add(found[0])
                continue
            if found:
                problems.append(f"{given!r} is in several sources ({found}): write source/id")
                continue
            close = difflib.get_close_matches(given, [*keys, *by_id], n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{given!r} (for {question[:60]!r}) is not in the index{hint}")
    return dict(judged), problems


def merge(*sets: Judged) -> Judged:
    """The union of several judged sets."""
    merged: Judged = defaultdict(set)
    for judged in sets:
        for question, keys in judged.items():
            merged[question] |= keys
    return dict(merged)


def write_golden(judged: Judged, folder: Path) -> GoldenSetFiles:
    """queries.jsonl and qrels.tsv (BEIR) in `folder`, with bare document ids as the
    evaluation compares them; `source` is set when every id comes from one source."""
    sources = {key.split("/", 1)[0] for keys in judged.values() for key in keys}
    one = next(iter(sources)) if len(sources) == 1 else None
    folder.mkdir(parents=True, exist_ok=True)
    queries_path, qrels_path = folder / "queries.jsonl", folder / "qrels.tsv"
    ids = {question: "q-" + sha256_text(question)[:12] for question in sorted(judged)}
    write_queries(queries_path, {ids[q]: q for q in ids})
    write_qrels(
        qrels_path,
        {ids[q]: {key.split("/", 1)[1]: 1 for key in sorted(judged[q])} for q in ids},
    )
    return GoldenSetFiles(
        queries_path, qrels_path, len(judged), sum(len(k) for k in judged.values()), one
    )

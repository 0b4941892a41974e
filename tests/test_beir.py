"""The BEIR module reads what it writes, and reads the files BEIR ships (header, grades, gaps)."""

from __future__ import annotations

from pathlib import Path

from rag_pipelines.beir import (
    BadRecord,
    CorpusRecord,
    read_corpus,
    read_qrels,
    read_queries,
    write_corpus,
    write_qrels,
    write_queries,
)


def test_round_trip(tmp_path: Path) -> None:
    """Corpus, queries and qrels come back as written (qrels with their header)."""
    write_corpus(tmp_path / "corpus.jsonl", [("d1", "Title", "Text one."), ("d2", "", "Two.")])
    write_queries(tmp_path / "queries.jsonl", {"q1": "what?", "q2": "why?"})
    write_qrels(tmp_path / "qrels.tsv", {"q1": {"d1": 2, "d2": 1}})
    records = list(read_corpus(tmp_path / "corpus.jsonl"))
    assert [(r.id, r.title, r.text) for r in records if isinstance(r, CorpusRecord)] == [
        ("d1", "Title", "Text one."),
        ("d2", "", "Two."),
    ]
    assert read_queries(tmp_path / "queries.jsonl") == {"q1": "what?", "q2": "why?"}
    assert (tmp_path / "qrels.tsv").read_text().startswith("query-id\tcorpus-id\tscore\n")
    assert read_qrels(tmp_path / "qrels.tsv") == {"q1": {"d1": 2, "d2": 1}}


def test_bad_corpus_lines_and_zero_grades(tmp_path: Path) -> None:
    """A line that is not an object with `_id` is a BadRecord; grade 0 is not a judgement."""
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"_id": 7, "text": "ok"}\n\nnot json\n{"title": "no id"}\n')
    records = list(read_corpus(corpus))
    assert isinstance(records[0], CorpusRecord) and records[0].id == "7"
    assert [(r.line_no, r.error_type) for r in records if isinstance(r, BadRecord)] == [
        (3, "JSONDecodeError"),
        (4, "ValueError"),
    ]
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("q1\td1\t1\nq1\td2\t0\n")  # no header
    assert read_qrels(qrels) == {"q1": {"d1": 1}}

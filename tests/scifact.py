"""Read the BEIR SciFact files for tests (queries, judgements, a corpus slice)."""

from __future__ import annotations

from pathlib import Path

from rag_pipelines.beir import CorpusRecord, read_corpus, read_qrels, read_queries


def load_qrels(root: Path, split: str = "train") -> dict[str, set[str]]:
    """query id → relevant corpus ids."""
    return {q: set(docs) for q, docs in read_qrels(root / "qrels" / f"{split}.tsv").items()}


def load_queries(root: Path) -> dict[str, str]:
    """query id → text, in file order."""
    return read_queries(root / "queries.jsonl")


def corpus_ids(root: Path) -> list[str]:
    """Every corpus id, in file order."""
    return [r.id for r in read_corpus(root / "corpus.jsonl") if isinstance(r, CorpusRecord)]


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

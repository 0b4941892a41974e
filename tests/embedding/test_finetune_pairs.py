"""Fine-tuning inputs: batches without in-batch duplicates, and the positive chunk per pair."""

from __future__ import annotations

import numpy as np
import pytest

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.pipeline.tuning.finetune import training_pairs
from rag_pipelines.training.embedding import TrainingPair, batches_without_duplicates


def pairs(n_queries: int, docs_per_query: int, shared_docs: int) -> list[TrainingPair]:
    """Queries with several relevant documents, some documents shared between queries."""
    out = []
    for q in range(n_queries):
        for d in range(docs_per_query):
            doc = f"d{(q * docs_per_query + d) % (n_queries * docs_per_query - shared_docs)}"
            out.append(TrainingPair(f"q{q}", f"passage of {doc}", doc))
    return out


@pytest.mark.parametrize(
    ("queries", "per_query", "shared", "size"), [(20, 1, 0, 8), (15, 3, 10, 4)]
)
def test_batches_never_repeat_a_query_or_document(
    queries: int, per_query: int, shared: int, size: int
) -> None:
    """Every batch holds distinct queries and documents, at most batch_size, at least 2."""
    data = pairs(queries, per_query, shared)
    batches = batches_without_duplicates(data, size, seed=3)
    for batch in batches:
        assert 2 <= len(batch) <= size
        assert len({p.query for p in batch}) == len(batch)
        assert len({p.document for p in batch}) == len(batch)
    used = [p for b in batches for p in b]
    assert len(used) == len(set(map(id, used)))
    assert len(used) >= len(data) - 1  # at most a lone leftover pair is dropped


def test_batches_are_deterministic_per_seed() -> None:
    """Same seed, same batches; another seed shuffles differently."""
    data = pairs(20, 1, 0)
    assert batches_without_duplicates(data, 4, 1) == batches_without_duplicates(data, 4, 1)
    assert batches_without_duplicates(data, 4, 1) != batches_without_duplicates(data, 4, 2)


def chunk(doc: str, text: str) -> Chunk:
    """A minimal chunk of a document."""
    return Chunk.model_validate(
        {
            "id": "0" * 32,
            "source": "s",
            "document_id": doc,
            "document_uri": "file:///x",
            "document_hash": "h",
            "text": text,
            "embed_text": text,
            "text_hash": text,
            "token_count": 1,
            "ordinal": 0,
            "title": "t",
            "chunker": "test",
        }
    )


def test_positive_is_the_documents_chunk_closest_to_the_query() -> None:
    """Of doc a's two chunks the one along the query wins; unknown documents give no pair."""
    golden = GoldenSet("g", {"q": "query"}, {"q": {"a": 1, "missing": 1}})
    chunks = [chunk("a", "far"), chunk("a", "near"), chunk("b", "other")]
    vectors = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    found = training_pairs(golden, np.array([[1.0, 0.1]]), chunks, vectors)
    assert found == [TrainingPair("query", "near", "a")]


def test_hard_negatives_come_from_below_the_top_hits_and_are_never_judged() -> None:
    """A negative is an unjudged document ranked 3rd–30th; one with none keeps in-batch only."""
    from rag_pipelines.pipeline.tuning.finetune import NEGATIVE_SKIP, with_hard_negatives

    golden = GoldenSet("g", {"q1": "one", "q2": "two"}, {"q1": {"a": 1}, "q2": {"b": 1}})
    ranking = {
        "one": [("top1", "p"), ("top2", "p"), ("a", "pa"), ("n1", "pn1"), ("n2", "pn2")],
        "two": [("x", "p"), ("b", "p"), ("b", "p")],
    }
    asked: list[str] = []

    def ranked(query: str) -> list[tuple[str, str]]:
        asked.append(query)
        return ranking[query]

    pairs = [
        TrainingPair("one", "pos a", "a"),
        TrainingPair("two", "pos b", "b"),
    ]
    out = with_hard_negatives(pairs, golden, ranked, seed=5)
    assert NEGATIVE_SKIP == 2 and asked == ["one", "two"]
    assert out[0].negative_document in {"n1", "n2"}
    assert out[0].negative == {"n1": "pn1", "n2": "pn2"}[str(out[0].negative_document)]
    assert out[1] == pairs[1]  # only judged documents below the top 2
    assert with_hard_negatives(pairs, golden, ranked, seed=5) == out


def test_a_negative_never_shares_a_batch_with_its_document_as_a_positive() -> None:
    """One pair's hard negative is never another pair's positive in the same batch."""
    data = [
        TrainingPair(f"q{i}", f"p{i}", f"d{i}", f"p{(i + 1) % 12}", f"d{(i + 1) % 12}")
        for i in range(12)
    ]
    for batch in batches_without_duplicates(data, 4, seed=1):
        documents = [p.document for p in batch] + [str(p.negative_document) for p in batch]
        assert len(documents) == len(set(documents))

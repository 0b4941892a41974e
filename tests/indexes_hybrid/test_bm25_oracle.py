"""Our BM25 (sparse dot products, and Qdrant Edge sparse search) against rank_bm25.BM25Okapi."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from rag_pipelines.evaluation.metrics import evaluate
from rag_pipelines.index.bm25 import Bm25Model
from rag_pipelines.index.edge_store import EdgeVectorStore
from rag_pipelines.index.vector_store import SparseVector
from tests.indexes_hybrid.sparse_corpus import COLLECTION, SparseCorpus

QUERIES = 50
DEPTH = 100


def dot_scores(model: Bm25Model, corpus: list[list[str]], query: list[str]) -> np.ndarray:
    """Each document's score as the sparse dot product of its vector and the query's."""
    q_idx, q_val = model.query_vector(query)
    weights = dict(zip(q_idx, q_val, strict=True))
    out = []
    for terms in corpus:
        d_idx, d_val = model.document_vector(terms)
        out.append(sum(v * weights.get(i, 0.0) for i, v in zip(d_idx, d_val, strict=True)))
    return np.array(out)


def edge_scores(
    store: EdgeVectorStore, corpus: SparseCorpus, terms: list[str], limit: int
) -> dict[str, float]:
    """document id → score of the documents Qdrant Edge's sparse search returns, best first."""
    vector = SparseVector(*corpus.model.query_vector(terms))
    hits = store.search_sparse(COLLECTION, vector, limit)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    return {str(h.payload["document_id"]): h.score for h in hits}


def oracle_run(corpus: SparseCorpus, terms: list[str]) -> dict[str, float]:
    """rank_bm25's top DEPTH documents with a positive score."""
    scores = corpus.oracle.get_scores(terms)
    top = np.argsort(-scores, kind="stable")[:DEPTH]
    return {corpus.doc_ids[i]: float(scores[i]) for i in top if scores[i] > 0}


def test_dot_products_equal_rank_bm25_scores(sparse_corpus: SparseCorpus) -> None:
    """For 50 real claims every one of 3000 documents scores as rank_bm25 scores it."""
    matrix = sparse_corpus.matrix
    for query_id in list(sparse_corpus.qrels)[:QUERIES]:
        terms = sparse_corpus.query_terms(query_id)
        ours = matrix @ sparse_corpus.dense_query(terms)
        expected = sparse_corpus.oracle.get_scores(terms)
        assert np.count_nonzero(expected) > 0
        np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-9)


def test_edge_sparse_search_scores_equal_rank_bm25(
    sparse_corpus: SparseCorpus, edge_bm25: EdgeVectorStore
) -> None:
    """Through Qdrant Edge, exactly the documents rank_bm25 scores above 0 come back, equal."""
    assert edge_bm25.count(COLLECTION) == len(sparse_corpus.doc_ids)
    index = {d: i for i, d in enumerate(sparse_corpus.doc_ids)}
    for query_id in list(sparse_corpus.qrels)[:QUERIES]:
        terms = sparse_corpus.query_terms(query_id)
        expected = sparse_corpus.oracle.get_scores(terms)
        found = edge_scores(edge_bm25, sparse_corpus, terms, len(index))
        assert set(found) == {sparse_corpus.doc_ids[i] for i in np.flatnonzero(expected > 0)}
        ours = np.array([found[d] for d in found])
        theirs = np.array([expected[index[d]] for d in found])
        np.testing.assert_allclose(ours, theirs, rtol=1e-4)


def test_ndcg_through_edge_matches_rank_bm25(
    sparse_corpus: SparseCorpus, edge_bm25: EdgeVectorStore
) -> None:
    """nDCG@10 over every judged query answerable in the sample is rank_bm25's within 0.005."""
    qrels = {q: dict.fromkeys(docs, 1) for q, docs in sparse_corpus.qrels.items()}
    ours: dict[str, dict[str, float]] = {}
    theirs: dict[str, dict[str, float]] = {}
    overlap = []
    for query_id in qrels:
        terms = sparse_corpus.query_terms(query_id)
        ours[query_id] = edge_scores(edge_bm25, sparse_corpus, terms, DEPTH)
        theirs[query_id] = oracle_run(sparse_corpus, terms)
        overlap.append(len(set(list(ours[query_id])[:10]) & set(list(theirs[query_id])[:10])) / 10)
    ndcg_ours = evaluate(qrels, ours, ("ndcg@10",))["ndcg@10"]
    ndcg_theirs = evaluate(qrels, theirs, ("ndcg@10",))["ndcg@10"]
    print(
        f"\nBM25 on {len(sparse_corpus.doc_ids)} SciFact docs, {len(qrels)} judged queries: "
        f"nDCG@10 ours (Edge) {ndcg_ours:.4f}, rank_bm25 {ndcg_theirs:.4f}, "
        f"mean top-10 overlap {np.mean(overlap):.4f}"
    )
    assert len(qrels) >= 300
    assert ndcg_theirs > 0.5  # a sane BM25 run, so agreement is not agreement on garbage
    assert abs(ndcg_ours - ndcg_theirs) <= 0.005
    assert np.mean(overlap) >= 0.99


TINY = [["a", "b", "b"], ["a", "c"], ["a", "b", "d", "d", "d"], ["e"], ["b", "c", "e", "f"]]


@pytest.mark.parametrize(
    ("corpus", "query", "params"),
    [
        (TINY, ["b"], {}),
        (TINY, ["a"], {}),  # "a" is in 3 of 5 documents: negative idf, floored to ε·mean idf
        (TINY, ["a", "b", "d"], {}),
        (TINY, ["b", "b", "c"], {}),  # a repeated query term counts twice
        (TINY, ["zzz", "d"], {}),  # an unknown term scores nothing
        (TINY, ["zzz"], {}),
        (TINY, [], {}),
        (TINY, ["a", "d"], {"k1": 0.9, "b": 0.4, "epsilon": 0.1}),
        (TINY, ["b", "f"], {"b": 0.0}),
        (TINY, ["a", "e"], {"epsilon": 0.0}),
        ([["x", "y"], ["x", "z"], ["w"], ["v"]], ["x", "y"], {}),  # "x" in exactly half: idf 0
        ([["x"], ["x", "x"], ["x", "y"]], ["x", "y"], {}),  # mean idf < 0: a negative floor
    ],
)
def test_tiny_corpora_equal_rank_bm25(
    corpus: list[list[str]], query: list[str], params: dict[str, float]
) -> None:
    """Hand-made corpora, including the epsilon idf floor, score exactly as rank_bm25."""
    model = Bm25Model.fit(corpus, **params)
    oracle = BM25Okapi(corpus, **params)
    np.testing.assert_allclose(
        dot_scores(model, corpus, query), oracle.get_scores(query), rtol=1e-12, atol=1e-12
    )
    assert model.idf == [oracle.idf[t] for t in sorted(model.vocab, key=model.vocab.__getitem__)]


def test_idf_floor_replaces_negative_idf() -> None:
    """A term in more than half the documents takes ε · mean raw idf, not its own negative idf."""
    model = Bm25Model.fit(TINY)
    n = len(TINY)
    df = {"a": 3, "b": 3, "c": 2, "d": 1, "e": 2, "f": 1}
    raw = {t: math.log(n - c + 0.5) - math.log(c + 0.5) for t, c in df.items()}
    floor = 0.25 * sum(raw.values()) / len(raw)
    assert raw["a"] < 0 < floor
    assert model.idf[model.vocab["a"]] == pytest.approx(floor)
    assert model.idf[model.vocab["c"]] == pytest.approx(raw["c"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (["b", "b", "c"], {"b": 2.0, "c": 1.0}),
        (["zzz", "d", "zzz"], {"d": 1.0}),
        ([], {}),
    ],
)
def test_query_vector_counts_known_terms(query: list[str], expected: dict[str, float]) -> None:
    """A query vector holds term counts, and nothing for terms the corpus never saw."""
    model = Bm25Model.fit(TINY)
    indices, values = model.query_vector(query)
    assert dict(zip(indices, values, strict=True)) == {
        model.vocab[t]: c for t, c in expected.items()
    }

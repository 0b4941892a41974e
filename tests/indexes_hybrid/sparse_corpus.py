"""A SciFact sample tokenized and fitted once: our BM25 model, rank_bm25's, and sparse points."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi
from scipy import sparse

from rag_pipelines.config.models import Bm25Settings
from rag_pipelines.hashing import sha256_text
from rag_pipelines.index.bm25 import Bm25Model
from rag_pipelines.index.bm25_tokenizer import Bm25Tokenizer
from rag_pipelines.index.vector_store import SparseVector, VectorPoint
from tests.scifact import load_qrels, load_queries

COLLECTION = "bm25_v1"


@dataclass(frozen=True)
class SparseCorpus:
    """The same token lists fitted by Bm25Model and by rank_bm25.BM25Okapi."""

    doc_ids: list[str]
    tokenizer: Bm25Tokenizer
    model: Bm25Model
    oracle: BM25Okapi
    points: list[VectorPoint]
    queries: dict[str, str]
    qrels: dict[str, set[str]]

    @property
    def matrix(self) -> sparse.csr_array:
        """Document weights as rows (documents × vocabulary)."""
        rows, cols, vals = [], [], []
        for row, point in enumerate(self.points):
            assert point.sparse is not None
            rows += [row] * len(point.sparse.indices)
            cols += point.sparse.indices
            vals += point.sparse.values
        shape = (len(self.points), len(self.model.vocab))
        return sparse.csr_array((vals, (rows, cols)), shape=shape)

    def query_terms(self, query_id: str) -> list[str]:
        """A query's terms, tokenized as documents are."""
        return self.tokenizer(self.queries[query_id])

    def dense_query(self, terms: list[str]) -> np.ndarray:
        """The sparse query vector as a dense array over the vocabulary."""
        indices, values = self.model.query_vector(terms)
        out = np.zeros(len(self.model.vocab))
        out[indices] = values
        return out


def point_id(doc_id: str) -> str:
    """A content-derived chunk id (a hex digest, as the pipeline uses) for a SciFact doc id."""
    return sha256_text("scifact", doc_id)


def load_sparse_corpus(root: Path, size: int) -> SparseCorpus:
    """The first `size` SciFact abstracts (title + text) and the judged queries answerable there."""
    with (root / "corpus.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for _, line in zip(range(size), handle, strict=False)]
    tokenizer = Bm25Tokenizer(Bm25Settings())
    tokens = [tokenizer(f"{r['title']}\n{r['text']}") for r in rows]
    model = Bm25Model.fit(tokens)
    doc_ids = [str(r["_id"]) for r in rows]
    points = []
    for doc_id, terms in zip(doc_ids, tokens, strict=True):
        indices, values = model.document_vector(terms)
        payload = {"chunk_id": point_id(doc_id), "document_id": doc_id}
        points.append(VectorPoint(point_id(doc_id), None, payload, SparseVector(indices, values)))
    present = set(doc_ids)
    qrels = {q: docs for q, docs in load_qrels(root).items() if docs <= present}
    return SparseCorpus(
        doc_ids, tokenizer, model, BM25Okapi(tokens), points, load_queries(root), qrels
    )

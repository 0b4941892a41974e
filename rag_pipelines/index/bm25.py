"""BM25 (Okapi) statistics; document weights are precomputed so a sparse dot product is BM25.

For a document d and query q, BM25Okapi scores sum over query terms t (repeats included) of
    idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl)).
We store each chunk as a sparse vector whose value for term t is everything but the query part,
idf(t)·tf-part(t,d), and query with a sparse vector of term counts: the inner product Qdrant
computes is then exactly rank_bm25's score (same idf, including its epsilon floor for terms
that appear in more than half the documents). Statistics are corpus-wide, so they are computed
once per index version; Qdrant's inverted index makes a query cost milliseconds at 100k chunks.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

FORMAT_VERSION = 1


@dataclass
class Bm25Model:
    """Vocabulary and statistics of one corpus."""

    vocab: dict[str, int]
    idf: list[float]
    avgdl: float
    documents: int
    k1: float
    b: float
    epsilon: float

    @classmethod
    def fit(
        cls, corpus: Iterable[list[str]], k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25
    ) -> Bm25Model:
        """Statistics of a tokenized corpus, with rank_bm25.BM25Okapi's idf."""
        df: Counter[str] = Counter()
        total = 0
        n = 0
        for terms in corpus:
            df.update(set(terms))
            total += len(terms)
            n += 1
        vocab = {term: i for i, term in enumerate(sorted(df))}
        raw = [math.log(n - df[t] + 0.5) - math.log(df[t] + 0.5) for t in vocab]
        average = sum(raw) / len(raw) if raw else 0.0
        idf = [x if x >= 0 else epsilon * average for x in raw]
        return cls(vocab, idf, total / n if n else 0.0, n, k1, b, epsilon)

    def document_vector(self, terms: list[str]) -> tuple[list[int], list[float]]:
        """Sparse (term ids, weights) of a document; unknown terms are ignored."""
        counts = Counter(t for t in terms if t in self.vocab)
        norm = self.k1 * (1 - self.b + self.b * len(terms) / self.avgdl) if self.avgdl else self.k1
        indices: list[int] = []
        values: list[float] = []
        for term, tf in counts.items():
            term_id = self.vocab[term]
            indices.append(term_id)
            values.append(self.idf[term_id] * tf * (self.k1 + 1) / (tf + norm))
        return indices, values

    def query_vector(self, terms: list[str]) -> tuple[list[int], list[float]]:
        """Sparse (term ids, counts) of a query; terms not in the corpus score nothing."""
        counts = Counter(self.vocab[t] for t in terms if t in self.vocab)
        return list(counts), [float(c) for c in counts.values()]

    def save(self, path: Path, settings: dict[str, object]) -> None:
        """Write the model as JSON (no pickle), with the tokenizer settings it needs."""
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        data = {
            "format_version": FORMAT_VERSION,
            "tokenizer": settings,
            "k1": self.k1,
            "b": self.b,
            "epsilon": self.epsilon,
            "avgdl": self.avgdl,
            "documents": self.documents,
            "terms": terms,
            "idf": self.idf,
        }
        path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> tuple[Bm25Model, dict[str, object]]:
        """A saved model and its tokenizer settings."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path}: unsupported BM25 format {data.get('format_version')}")
        vocab = {term: i for i, term in enumerate(data["terms"])}
        model = cls(
            vocab,
            data["idf"],
            data["avgdl"],
            data["documents"],
            data["k1"],
            data["b"],
            data["epsilon"],
        )
        return model, data["tokenizer"]

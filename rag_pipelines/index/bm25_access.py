"""BM25 idf as a caller sees it: counted over the chunks its groups may read.

The stored chunk vectors carry the corpus-wide idf (index/bm25.py). Document frequencies are
also kept per access class (the groups that may read a chunk), so at query time a term's
weight is scaled by idf_readable(t) / idf_corpus(t): the score is then BM25 with the idf of the
readable chunks alone, and a hidden document containing a query term no longer moves the
ranking of readable ones. What stays corpus-wide is avgdl, the mean chunk length in the length
normalisation of every chunk vector (changing it would mean one set of vectors per caller).
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from rag_pipelines.index.bm25 import Bm25Model

FORMAT_VERSION = 1
AccessClass = tuple[str, ...]


class Bm25AccessStats:
    """Chunks and document frequencies per access class, by term id of a Bm25Model."""

    def __init__(self, documents: dict[AccessClass, int], df: dict[AccessClass, dict[int, int]]):
        self.documents = documents
        self.df = df
        self._cache: dict[frozenset[AccessClass], tuple[float, int]] = {}
        self._lock = threading.Lock()

    @classmethod
    def fit(
        cls, model: Bm25Model, corpus: Iterable[list[str]], classes: Iterable[AccessClass]
    ) -> Bm25AccessStats:
        """Per-class counts of a tokenized corpus (the one `model` was fitted on)."""
        documents: Counter[AccessClass] = Counter()
        df: dict[AccessClass, Counter[int]] = {}
        for terms, access in zip(corpus, classes, strict=True):
            documents[access] += 1
            df.setdefault(access, Counter()).update({model.vocab[t] for t in set(terms)})
        return cls(dict(documents), {k: dict(v) for k, v in df.items()})

    def save(self, path: Path) -> None:
        """Write as JSON: per class its groups, chunk count, and (term id, df) pairs."""
        data = {
            "format_version": FORMAT_VERSION,
            "classes": [
                {
                    "groups": list(access),
                    "documents": self.documents[access],
                    "terms": list(self.df[access]),
                    "df": list(self.df[access].values()),
                }
                for access in sorted(self.documents)
            ],
        }
        path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Bm25AccessStats | None:
        """The saved statistics; None for a version built before they existed."""
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path}: unsupported format {data.get('format_version')}")
        documents: dict[AccessClass, int] = {}
        df: dict[AccessClass, dict[int, int]] = {}
        for entry in data["classes"]:
            access = tuple(entry["groups"])
            documents[access] = int(entry["documents"])
            df[access] = dict(zip(entry["terms"], entry["df"], strict=True))
        return cls(documents, df)

    def idf(self, model: Bm25Model, term_id: int, visible: frozenset[AccessClass]) -> float:
        """rank_bm25's idf of a term over the chunks of the `visible` classes only."""
        average, n = self._average(model, visible)
        freq = sum(self.df[c].get(term_id, 0) for c in visible)
        raw = math.log(n - freq + 0.5) - math.log(freq + 0.5)
        return raw if raw >= 0 else model.epsilon * average

    def query_weights(
        self,
        model: Bm25Model,
        indices: list[int],
        values: list[float],
        visible: frozenset[AccessClass],
    ) -> list[float]:
        """Query weights that turn the stored corpus idf into the visible chunks' idf."""
        weights = []
        for term_id, count in zip(indices, values, strict=True):
            stored = model.idf[term_id]
            # A term whose stored idf is 0 scores nothing in any chunk, whatever its weight.
            scale = self.idf(model, term_id, visible) / stored if stored else 0.0
            weights.append(count * scale)
        return weights

    def _average(self, model: Bm25Model, visible: frozenset[AccessClass]) -> tuple[float, int]:
        """Mean raw idf over the terms the visible chunks hold (the epsilon floor's base)."""
        with self._lock:
            cached = self._cache.get(visible)
        if cached is not None:
            return cached
        n = sum(self.documents[c] for c in visible)
        df: Counter[int] = Counter()
        for access in visible:
            df.update(self.df[access])
        raw = [math.log(n - f + 0.5) - math.log(f + 0.5) for f in df.values()]
        result = (sum(raw) / len(raw) if raw else 0.0, n)
        with self._lock:
            self._cache[visible] = result
        return result

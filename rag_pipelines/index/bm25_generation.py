"""BM25 in a generation: term ids and the mean chunk length fixed for the generation's life.

Copy-per-version stores idf(t)·tf-part(t,d) in each chunk vector (index/bm25.py). A generation's
points outlive versions, and a version's idf changes whenever any chunk does, so its points
hold the tf-part alone and the idf of the version being read goes into the query weights
(index/generation_view.py): the idf stays exactly rank_bm25's, per version and per access
class. What a generation freezes is avgdl, inside the tf-part's length normalisation, and the
term ids (append-only, so a point written by an older version still means the same terms).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rag_pipelines.index.bm25 import Bm25Model
from rag_pipelines.storage import atomic_write_text


@dataclass
class GenerationVocab:
    """A generation's term ids (position in `terms`) and its frozen mean chunk length."""

    avgdl: float
    terms: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ids = {term: i for i, term in enumerate(self.terms)}

    def extend(self, terms: list[str]) -> None:
        """Give terms not seen before in the generation the next ids (sorted, so reproducible)."""
        for term in sorted(t for t in terms if t not in self.ids):
            self.ids[term] = len(self.terms)
            self.terms.append(term)

    def save(self, path: Path) -> None:
        """Write atomically (ids only ever grow, so a crash leaves a usable superset)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({"avgdl": self.avgdl, "terms": self.terms}))

    @classmethod
    def load(cls, path: Path) -> GenerationVocab:
        """A saved vocabulary."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(float(data["avgdl"]), list(data["terms"]))


def remap(model: Bm25Model, vocab: GenerationVocab) -> Bm25Model:
    """The version's statistics under the generation's term ids (idf 0 for absent terms)."""
    idf = [0.0] * len(vocab.terms)
    for term, own_id in model.vocab.items():
        idf[vocab.ids[term]] = model.idf[own_id]
    return Bm25Model(
        dict(vocab.ids), idf, model.avgdl, model.documents, model.k1, model.b, model.epsilon
    )


def tf_vector(
    terms: list[str], vocab: GenerationVocab, k1: float, b: float
) -> tuple[list[int], list[float]]:
    """A chunk's sparse tf-part, length-normalised with the generation's avgdl."""
    counts = Counter(terms)
    norm = k1 * (1 - b + b * len(terms) / vocab.avgdl) if vocab.avgdl else k1
    indices = [vocab.ids[t] for t in counts]
    values = [tf * (k1 + 1) / (tf + norm) for tf in counts.values()]
    return indices, values


def within_drift(avgdl: float, frozen: float, b: float, drift: float) -> bool:
    """Whether a version's avgdl may be served by a generation frozen at `frozen`."""
    if b == 0:  # no length normalisation: avgdl does not enter any score
        return True
    if frozen == 0:
        return avgdl == 0
    return abs(avgdl / frozen - 1) <= drift

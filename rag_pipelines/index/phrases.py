"""Key phrases without a model: RAKE-style candidates, filtered and ranked by TF-IDF.

Why this and not spaCy noun chunks or YAKE: it needs no model or download, is deterministic,
and costs microseconds per chunk, so the graph scales to 100k+ chunks on a laptop CPU.
Candidates are runs of content words between stopwords, punctuation and numbers (RAKE's rule),
cut into n-grams of up to `max_words`; corpus-wide document frequency then removes one-off
noise (seen in fewer than `min_chunks` chunks) and near-stopwords (in too large a fraction).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

from rag_pipelines.index.bm25_tokenizer import ENGLISH_STOPWORDS

_TOKEN = re.compile(r"[^\W\d_](?:[\w'-]*[^\W_])?|\d[\w.,-]*|[^\w\s]", re.UNICODE)
_EXTRA_STOP = frozenset(
    "also may might must shall would could can one two three use used using however thus "
    "therefore within without among via per e.g i.e et al fig figure table".split()
)
STOP = ENGLISH_STOPWORDS | _EXTRA_STOP


def candidate_phrases(text: str, max_words: int = 3) -> list[str]:
    """Lowercased n-grams (1..max_words) of content-word runs, in order of appearance."""
    runs: list[list[str]] = []
    current: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        if token[0].isalpha() and token not in STOP and len(token) > 2:
            current.append(token)
        else:
            if current:
                runs.append(current)
            current = []
    if current:
        runs.append(current)
    out: list[str] = []
    for run in runs:
        for n in range(1, max_words + 1):
            for i in range(len(run) - n + 1):
                out.append(" ".join(run[i : i + n]))
    return out


class PhraseVocabulary:
    """Which phrases count as entities in a corpus, with their document frequency."""

    def __init__(self, df: dict[str, int], chunks: int) -> None:
        self.df = df
        self.chunks = chunks

    @classmethod
    def fit(
        cls,
        texts: Iterable[list[str]],
        min_chunks: int = 2,
        max_fraction: float = 0.02,
    ) -> PhraseVocabulary:
        """Keep phrases seen in at least `min_chunks` chunks and at most `max_fraction` of them."""
        df: Counter[str] = Counter()
        n = 0
        for phrases in texts:
            df.update(set(phrases))
            n += 1
        ceiling = max(min_chunks, int(max_fraction * n))
        kept = {p: c for p, c in df.items() if min_chunks <= c <= ceiling}
        return cls(kept, n)

    def idf(self, phrase: str) -> float:
        """Inverse document frequency of a kept phrase."""
        return math.log((self.chunks + 1) / (self.df[phrase] + 0.5))

    def top(self, phrases: list[str], k: int) -> list[tuple[str, float]]:
        """The k best kept phrases of one chunk by tf·idf, longer phrases favoured."""
        counts = Counter(p for p in phrases if p in self.df)
        scored = [(p, tf * self.idf(p) * (1 + 0.5 * p.count(" "))) for p, tf in counts.items()]
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:k]

"""The BM25 tokenizer: lowercasing, stopwords and stemming as sources.yaml configures them."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from rag_pipelines.config.models import Bm25Settings

_WORD = re.compile(r"\w+", re.UNICODE)

# The widely used English stopword list of NLTK/Snowball (179 words).
ENGLISH_STOPWORDS = frozenset(
    """i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself
    yourselves he him his himself she she's her hers herself it it's its itself they them their
    theirs themselves what which who whom this that that'll these those am is are was were be
    been being have has had having do does did doing a an the and but if or because as until
    while of at by for with about against between into through during before after above below
    to from up down in out on off over under again further then once here there when where why
    how all any both each few more most other some such no nor not only own same so than too
    very s t can will just don don't should should've now d ll m o re ve y ain aren aren't
    couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't
    ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn shouldn't wasn wasn't
    weren weren't won won't wouldn wouldn't""".split()
)


class Bm25Tokenizer:
    """Text → terms; the same instance tokenizes documents at build time and queries later."""

    def __init__(self, settings: Bm25Settings) -> None:
        self.settings = settings
        self._stop: frozenset[str] = frozenset()
        if settings.stopwords == "english":
            self._stop = ENGLISH_STOPWORDS
        elif isinstance(settings.stopwords, list):
            self._stop = frozenset(
                w.lower() if settings.lowercase else w for w in settings.stopwords
            )
        self._stem = _stemmer(settings.stemmer)

    def __call__(self, text: str) -> list[str]:
        """Terms of a text, in order (duplicates kept: BM25 counts them)."""
        if self.settings.lowercase:
            text = text.lower()
        minimum = self.settings.min_token_len
        words = [w for w in _WORD.findall(text) if len(w) >= minimum and w not in self._stop]
        return [self._stem(w) for w in words] if self._stem is not None else words


def _stemmer(name: str) -> Callable[[str], str] | None:
    if name == "none":
        return None
    from nltk.stem.snowball import SnowballStemmer

    stemmer = SnowballStemmer(name if name != "snowball" else "english")
    # Corpora repeat words endlessly; stemming each distinct word once is most of the speed.
    return lru_cache(maxsize=500_000)(stemmer.stem)

"""The BM25 tokenizer under each combination of sources.yaml settings."""

from __future__ import annotations

from typing import Any

import pytest
from nltk.stem.snowball import SnowballStemmer

from rag_pipelines.config.models import Bm25Settings
from rag_pipelines.index.bm25_tokenizer import ENGLISH_STOPWORDS, Bm25Tokenizer

TEXT = "The Cells were RUNNING in 2 labs; T-cell studies of_mice."


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, ["cell", "run", "2", "lab", "cell", "studi", "of_mic"]),
        (
            {"stemmer": "none"},
            ["cells", "running", "2", "labs", "cell", "studies", "of_mice"],
        ),
        (
            {"lowercase": False, "stemmer": "none"},  # stopwords match case-sensitively
            ["The", "Cells", "RUNNING", "2", "labs", "T", "cell", "studies", "of_mice"],
        ),
        (
            {"stopwords": "none", "stemmer": "none"},
            "the cells were running in 2 labs t cell studies of_mice".split(),
        ),
        (
            {"stopwords": ["Cells", "labs"], "stemmer": "none"},  # the list is lowercased too
            ["the", "were", "running", "in", "2", "t", "cell", "studies", "of_mice"],
        ),
        (
            {"stopwords": ["Cells", "labs"], "stemmer": "none", "lowercase": False},
            ["The", "were", "RUNNING", "in", "2", "T", "cell", "studies", "of_mice"],
        ),
        (
            {"stopwords": [], "stemmer": "none"},  # an empty custom list removes nothing
            "the cells were running in 2 labs t cell studies of_mice".split(),
        ),
        (
            {"min_token_len": 3, "stemmer": "none"},  # length counts before stemming
            ["cells", "running", "labs", "cell", "studies", "of_mice"],
        ),
        ({"min_token_len": 3}, ["cell", "run", "lab", "cell", "studi", "of_mic"]),
        ({"min_token_len": 6, "stopwords": "none"}, ["run", "studi", "of_mic"]),
    ],
)
def test_settings_table(settings: dict[str, Any], expected: list[str]) -> None:
    """Each setting changes exactly what it says; duplicates stay (BM25 counts them)."""
    assert Bm25Tokenizer(Bm25Settings(**settings))(TEXT) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   ;;; --- !!!", []),
        ("the and of", []),
        ("Über naïve Zürich café", ["über", "naïv", "zürich", "café"]),
        ("COVID-19 vaccines", ["covid", "19", "vaccin"]),
        ("studies studies STUDIES", ["studi", "studi", "studi"]),
    ],
)
def test_default_tokenizer_edges(text: str, expected: list[str]) -> None:
    """Default settings: punctuation splits, Unicode words survive, nothing is deduplicated."""
    assert Bm25Tokenizer(Bm25Settings())(text) == expected


def test_snowball_stems_lowercase_even_without_lowercasing() -> None:
    """NLTK's Snowball lowercases what it stems, so `lowercase: false` keeps case only unstemmed."""
    assert Bm25Tokenizer(Bm25Settings(lowercase=False))("Cells RUNNING") == ["cell", "run"]


def test_english_list_shape() -> None:
    """The English list has NLTK's 179 words, all lowercase, contractions included."""
    assert len(ENGLISH_STOPWORDS) == 179
    assert {w.lower() for w in ENGLISH_STOPWORDS} == ENGLISH_STOPWORDS
    assert {"the", "don't", "won't", "ourselves"} <= ENGLISH_STOPWORDS


def test_stems_are_nltks_snowball() -> None:
    """The snowball setting stems as NLTK's English Snowball stemmer does, word by word."""
    words = "generalizations connected hopefully relational conditional abilities".split()
    stemmer = SnowballStemmer("english")
    tokens = Bm25Tokenizer(Bm25Settings(stopwords="none"))(" ".join(words))
    assert tokens == [stemmer.stem(w) for w in words]
    assert tokens != words

"""Key phrases: RAKE-style candidates, corpus-wide filtering, and per-chunk ranking."""

from __future__ import annotations

import math

import pytest

from rag_pipelines.index.phrases import PhraseVocabulary, candidate_phrases


@pytest.mark.parametrize(
    ("text", "max_words", "expected"),
    [
        (
            "Knowledge graphs improve retrieval.",
            3,
            [
                *("knowledge", "graphs", "improve", "retrieval"),
                *("knowledge graphs", "graphs improve", "improve retrieval"),
                *("knowledge graphs improve", "graphs improve retrieval"),
            ],
        ),
        (
            "Knowledge graphs improve retrieval.",
            1,
            ["knowledge", "graphs", "improve", "retrieval"],
        ),
        (  # stopwords end a run: no phrase spans "and"
            "vector search and graph walks",
            2,
            ["vector", "search", "vector search", "graph", "walks", "graph walks"],
        ),
        ("COVID 19 vaccine trial", 2, ["covid", "vaccine", "trial", "vaccine trial"]),
        ("cancer, tumour.", 3, ["cancer", "tumour"]),  # punctuation ends a run
        ("an RNA-seq of T cells", 3, ["rna-seq", "cells"]),  # words of <= 2 letters end a run
        ("Alzheimer's disease", 2, ["alzheimer's", "disease", "alzheimer's disease"]),
        ("however the figure shows results", 2, ["shows", "results", "shows results"]),
        ("DNA Repair", 2, ["dna", "repair", "dna repair"]),
        ("", 3, []),
        ("the and of 42 , .", 3, []),
    ],
)
def test_candidate_phrases(text: str, max_words: int, expected: list[str]) -> None:
    """Lowercased n-grams of content-word runs, in order: n=1 first, then n=2, per run."""
    assert candidate_phrases(text, max_words) == expected


# Ten chunks: "once" in 1, "pair" in 2, "some" in 5, "every" in all 10 (twice in chunk 0).
CHUNKS = [
    ["every", "every", "once", "pair", "some"],
    ["every", "pair", "some"],
    ["every", "some"],
    ["every", "some"],
    ["every", "some"],
    *[["every"]] * 5,
]


@pytest.mark.parametrize(
    ("min_chunks", "max_fraction", "kept"),
    [
        (2, 0.5, {"pair": 2, "some": 5}),  # ceiling 5: "every" (10) is a near-stopword
        (2, 1.0, {"pair": 2, "some": 5, "every": 10}),
        (1, 1.0, {"once": 1, "pair": 2, "some": 5, "every": 10}),
        (3, 1.0, {"some": 5, "every": 10}),
        (2, 0.01, {"pair": 2}),  # int(0.01·10) = 0, so the ceiling is min_chunks itself
        (6, 0.5, {}),  # ceiling max(6, 5) = 6, and only "every" reaches 6: it has 10
    ],
)
def test_vocabulary_filters_by_document_frequency(
    min_chunks: int, max_fraction: float, kept: dict[str, int]
) -> None:
    """Phrases stay when seen in min_chunks..max(min_chunks, ⌊max_fraction·n⌋) chunks."""
    vocab = PhraseVocabulary.fit(CHUNKS, min_chunks, max_fraction)
    assert vocab.chunks == 10
    assert vocab.df == kept


def test_top_ranks_by_tf_idf_with_longer_phrases_favoured() -> None:
    """Score = tf · ln((n+1)/(df+0.5)) · (1 + 0.5 per extra word); ties by phrase; k cuts."""
    df = {"rare": 2, "common": 8, "single": 8, "bigram term": 8, "tie a": 4, "tie b": 4}
    vocab = PhraseVocabulary(df, 10)

    def idf(phrase: str) -> float:
        return math.log(11 / (df[phrase] + 0.5))

    phrases = ["single", "common", "common", "common", "rare", "bigram term", "tie b", "tie a"]
    top = vocab.top([*phrases, "unknown"], 10)
    # rarer beats commoner, tf multiplies, a bigram beats a unigram of equal df and tf
    assert [p for p, _ in top] == ["rare", "tie a", "tie b", "common", "bigram term", "single"]
    expected = [idf("rare"), 1.5 * idf("tie a"), 1.5 * idf("tie b"), 3 * idf("common")]
    expected += [1.5 * idf("bigram term"), idf("single")]
    assert [s for _, s in top] == pytest.approx(expected)
    assert vocab.top(phrases, 2) == top[:2]
    assert vocab.top(["unknown", "other"], 5) == []

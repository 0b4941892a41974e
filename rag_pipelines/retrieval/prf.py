"""BM25 pseudo-relevance feedback (RM3): expand a query with terms of its top hits (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from rag_pipelines.config.models import PrfSettings
from rag_pipelines.index.bm25 import Bm25Model


def relevance_model(
    feedback: Sequence[tuple[Sequence[str], float]], fb_terms: int
) -> dict[str, float]:
    """RM1: Σ_D P(t|D)·P(D|q) over feedback documents, the top `fb_terms` terms, L1-normalised.

    `feedback` holds (terms of a document, its first-pass score); P(t|D) is the term's share of
    the document and P(D|q) its score's share of the feedback scores (uniform if all are ≤ 0).
    Ties between terms break by term, so the expansion is deterministic.
    """
    total = sum(max(score, 0.0) for _, score in feedback)
    weights: dict[str, float] = {}
    for terms, score in feedback:
        if not terms:
            continue
        doc_weight = max(score, 0.0) / total if total > 0 else 1.0 / len(feedback)
        for term, tf in Counter(terms).items():
            weights[term] = weights.get(term, 0.0) + doc_weight * tf / len(terms)
    top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:fb_terms]
    norm = sum(w for _, w in top)
    return {t: w / norm for t, w in top} if norm > 0 else {}


def rm3_weights(
    query_terms: Sequence[str],
    feedback: Sequence[tuple[Sequence[str], float]],
    fb_terms: int = 10,
    original_weight: float = 0.5,
) -> dict[str, float]:
    """RM3: original_weight·P(t|q) + (1 − original_weight)·RM1(t), both L1-normalised."""
    counts = Counter(query_terms)
    n = sum(counts.values())
    mixed: dict[str, float] = {t: original_weight * c / n for t, c in counts.items()} if n else {}
    for term, weight in relevance_model(feedback, fb_terms).items():
        mixed[term] = mixed.get(term, 0.0) + (1.0 - original_weight) * weight
    return mixed


def weighted_query_vector(
    model: Bm25Model, weights: Mapping[str, float]
) -> tuple[list[int], list[float]]:
    """Sparse (term ids, weights) of a weighted query; terms not in the corpus are dropped."""
    pairs = sorted((model.vocab[t], w) for t, w in weights.items() if t in model.vocab and w > 0)
    return [i for i, _ in pairs], [w for _, w in pairs]


def expand(
    settings: PrfSettings,
    query_terms: Sequence[str],
    feedback: Sequence[tuple[Sequence[str], float]],
) -> dict[str, float]:
    """The RM3 query of `settings` from the first pass's top `fb_docs` hits."""
    return rm3_weights(
        query_terms, feedback[: settings.fb_docs], settings.fb_terms, settings.original_weight
    )

"""A learned per-query fusion weight: how far to trust dense vs BM25, from their score shapes.

For each query the share α of the dense leg in a dense+BM25 weight budget is
sigmoid(θ · standardised features), where the features describe each leg's top scores (how
peaked they are) and how much the two legs agree. θ is fit on tuning queries only, directly on
the mean per-query nDCG@10 over a grid of α (hill climbing with an L2 pull towards zero).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from rag_pipelines.index.layout import QUERY_WEIGHTS_RECORD

FEATURES = (
    "dense_top",
    "dense_margin",
    "dense_spread",
    "bm25_margin",
    "bm25_spread",
    "agreement",
    "query_terms",
)
ALPHA_GRID = tuple(round(0.1 * i, 1) for i in range(11))


def _shape(scores: Sequence[float]) -> tuple[float, float, float]:
    """(top score, relative margin of #1 over #2, relative spread of #1 over #10)."""
    if not scores:
        return 0.0, 0.0, 0.0
    top = float(scores[0])
    second = float(scores[1]) if len(scores) > 1 else 0.0
    tenth = float(scores[min(9, len(scores) - 1)])
    scale = abs(top) or 1.0
    return top, (top - second) / scale, (top - tenth) / scale


def query_features(
    dense: Sequence[float],
    bm25: Sequence[float],
    dense_top_docs: Sequence[str],
    bm25_top_docs: Sequence[str],
    query_terms: int,
) -> list[float]:
    """FEATURES of one query: leg scores best first, each leg's top-10 documents, its terms."""
    d_top, d_margin, d_spread = _shape(dense)
    _, b_margin, b_spread = _shape(bm25)
    a, b = set(dense_top_docs[:10]), set(bm25_top_docs[:10])
    agreement = len(a & b) / len(a | b) if a | b else 0.0
    return [d_top, d_margin, d_spread, b_margin, b_spread, agreement, math.log1p(query_terms)]


def leg_features(
    dense: tuple[Sequence[str], Mapping[str, float]],
    bm25: tuple[Sequence[str], Mapping[str, float]],
    doc_of: Mapping[str, str],
    query_terms: int,
) -> list[float]:
    """FEATURES of one query from its dense and BM25 legs (chunk ids best first, scores)."""

    def top_docs(ids: Sequence[str]) -> list[str]:
        return list(dict.fromkeys(doc_of[c] for c in ids if c in doc_of))[:10]

    return query_features(
        [dense[1][c] for c in dense[0][:10]],
        [bm25[1][c] for c in bm25[0][:10]],
        top_docs(dense[0]),
        top_docs(bm25[0]),
        query_terms,
    )


@dataclass
class QueryWeights:
    """A fitted model: feature standardisation, θ (bias first) and the weight budget."""

    mean: list[float]
    std: list[float]
    theta: list[float]
    budget: float = 2.0
    features: tuple[str, ...] = field(default=FEATURES)

    def alpha(self, x: Sequence[float]) -> float:
        """The dense leg's share for one query's features."""
        z = (np.asarray(x, dtype=float) - np.asarray(self.mean)) / np.asarray(self.std)
        logit = float(self.theta[0] + np.dot(self.theta[1:], z))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))

    def weights(self, x: Sequence[float], base: Mapping[str, float]) -> dict[str, float]:
        """Fusion weights for one query: `base` with dense and bm25 split by α on ALPHA_GRID.

        α is rounded to the grid it was fit on, so serving reproduces the fit's choices.
        """
        steps = len(ALPHA_GRID) - 1
        a = round(self.alpha(x) * steps) / steps
        return {**base, "dense": self.budget * a, "bm25": self.budget * (1.0 - a)}

    def to_json(self) -> str:
        """JSON text of the model."""
        return json.dumps(
            {
                "features": list(self.features),
                "mean": self.mean,
                "std": self.std,
                "theta": self.theta,
                "budget": self.budget,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> QueryWeights:
        """A model from its JSON text."""
        data = json.loads(text)
        return cls(
            data["mean"], data["std"], data["theta"], data["budget"], tuple(data["features"])
        )


def _objective(theta: np.ndarray, z: np.ndarray, table: np.ndarray, l2: float) -> float:
    alpha = 1.0 / (1.0 + np.exp(-np.clip(theta[0] + z @ theta[1:], -30, 30)))
    column = np.rint(alpha * (table.shape[1] - 1)).astype(int)
    return float(table[np.arange(len(z)), column].mean() - l2 * np.sum(theta[1:] ** 2))


def fit_query_weights(
    x: np.ndarray,
    table: np.ndarray,
    l2: float = 1e-3,
    rounds: int = 400,
    seed: int = 0,
    budget: float = 2.0,
) -> QueryWeights:
    """Fit θ on features `x` (queries × FEATURES) and `table` (queries × α grid of nDCG@10).

    Starts from the best constant α, then hill-climbs: random single-coordinate and
    full-vector steps, kept when the penalised mean nDCG improves. Deterministic for a seed.
    """
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std == 0] = 1.0
    z = (x - mean) / std
    grid = table.shape[1]
    best_const = int(np.argmax(table.mean(axis=0)))
    a0 = min(max(best_const / (grid - 1), 0.02), 0.98)
    theta = np.zeros(x.shape[1] + 1)
    theta[0] = math.log(a0 / (1 - a0))
    score = _objective(theta, z, table, l2)
    rng = np.random.default_rng(seed)
    step = 0.5
    for i in range(rounds):
        trial = theta.copy()
        if i % 2:
            trial[rng.integers(len(theta))] += rng.normal(0, step)
        else:
            trial += rng.normal(0, step / 3, len(theta))
        value = _objective(trial, z, table, l2)
        if value > score + 1e-12:
            theta, score = trial, value
        if i and i % 100 == 0:
            step *= 0.7
    return QueryWeights(mean.tolist(), std.tolist(), theta.tolist(), budget)


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k of one ranking (linear gain, as ranx and trec_eval)."""
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


class QueryWeightRecord(BaseModel):
    """A fitted per-query weight model and the tuning evidence for using it."""

    enabled: bool
    model: str = Field(description="QueryWeights as JSON.")
    tune_queries: int
    scores: dict[str, float] = Field(default_factory=dict)


def load_query_weights(build_dir: Path) -> QueryWeights | None:
    """The model a version serves with, if its tuning fit one and enabled it."""
    path = build_dir / QUERY_WEIGHTS_RECORD
    if not path.exists():
        return None
    record = QueryWeightRecord.model_validate_json(path.read_text(encoding="utf-8"))
    return QueryWeights.from_json(record.model) if record.enabled else None

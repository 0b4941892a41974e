"""Reciprocal-rank fusion of several rankings (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Fused:
    """An item's fused score and its 1-based rank in each leg that returned it."""

    id: str
    score: float
    ranks: dict[str, int] = field(default_factory=dict)


def fuse_rankings(
    rankings: Mapping[str, Sequence[str]],
    weights: Mapping[Any, float],
    k: int = 60,
    limit: int | None = None,
) -> list[Fused]:
    """Weighted RRF: score(d) = Σ_leg weight_leg / (k + rank_leg(d)).

    Legs without a weight count 1.0; a weight of 0 keeps a leg's ranks for reporting but gives it
    no influence. Ties break by best single rank, then id, so results are deterministic.
    """
    fused: dict[str, Fused] = {}
    for leg, ids in rankings.items():
        weight = weights.get(leg, 1.0)
        for rank, item in enumerate(ids, start=1):
            entry = fused.setdefault(item, Fused(item, 0.0))
            if leg in entry.ranks:
                continue  # a leg listing an item twice counts its best rank only
            entry.ranks[leg] = rank
            entry.score += weight / (k + rank)
    ordered = sorted(fused.values(), key=lambda f: (-f.score, min(f.ranks.values()), f.id))
    return ordered[:limit] if limit is not None else ordered


class RankTable:
    """The legs' rankings as one array: a row per item, a column per leg, 1-based ranks (0 =
    absent). Fusing is then one matrix product, so many settings re-fuse the same legs cheaply.
    """

    def __init__(self, rankings: Mapping[str, Sequence[str]]) -> None:
        self.legs = list(rankings)
        position: dict[str, int] = {}
        for ids in rankings.values():
            for item in ids:
                position.setdefault(item, len(position))
        self.ids = list(position)
        self.ranks = np.zeros((len(self.ids), len(self.legs)), dtype=np.int64)
        for column, ids in enumerate(rankings.values()):
            rows = np.fromiter((position[i] for i in ids), dtype=np.int64, count=len(ids))
            ranks = np.arange(1, len(ids) + 1)
            # a leg listing an item twice counts its best rank only: write the worst first
            self.ranks[rows[::-1], column] = ranks[::-1]
        present = self.ranks > 0
        self.best = np.where(present, self.ranks, np.iinfo(np.int64).max).min(axis=1)
        self.id_rank = np.empty(len(self.ids), dtype=np.int64)
        self.id_rank[sorted(range(len(self.ids)), key=self.ids.__getitem__)] = np.arange(
            len(self.ids)
        )

    def scores(self, weights: Mapping[Any, float], k: int) -> np.ndarray:
        """Σ_leg weight_leg / (k + rank_leg) per item (legs without a weight count 1.0)."""
        w = np.array([weights.get(leg, 1.0) for leg in self.legs], dtype=np.float64)
        present = self.ranks > 0
        contrib = np.where(present, 1.0 / (k + np.where(present, self.ranks, 1)), 0.0)
        return np.asarray(contrib @ w)

    def order(self, weights: Mapping[Any, float], k: int, limit: int | None = None) -> np.ndarray:
        """Row indices best first: score, then best single rank, then id (as fuse_rankings)."""
        scores = self.scores(weights, k)
        # rounding keeps float noise from deciding ties that fuse_rankings' sums call equal
        key = np.lexsort((self.id_rank, self.best, -np.round(scores, 12)))
        return key[:limit] if limit is not None else key

    def fused(self, weights: Mapping[Any, float], k: int, limit: int | None = None) -> list[Fused]:
        """The same list as fuse_rankings."""
        scores = self.scores(weights, k)
        out = []
        for row in self.order(weights, k, limit).tolist():
            ranks = {
                leg: int(self.ranks[row, c])
                for c, leg in enumerate(self.legs)
                if self.ranks[row, c]
            }
            out.append(Fused(self.ids[row], float(scores[row]), ranks))
        return out

"""Reciprocal-rank fusion of several rankings (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


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

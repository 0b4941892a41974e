"""Cross-fitting: tuning queries in hash folds, each ranked by a model that never trained on it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def fold_of(query_id: str, count: int = 2) -> int:
    """The fold of a query: blake2b of its id modulo `count` (independent of the tuning split)."""
    digest = hashlib.blake2b(query_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


@dataclass(frozen=True)
class Fold:
    """Fold `index` of `count`: the queries a cross-fitted model leaves out of its training."""

    index: int
    count: int = 2

    def __post_init__(self) -> None:
        if self.count < 2 or not 0 <= self.index < self.count:
            raise ValueError(
                f"fold {self.index} of {self.count}: need count ≥ 2, 0 ≤ index < count"
            )

    def contains(self, query_id: str) -> bool:
        """Whether the query is in this fold."""
        return fold_of(query_id, self.count) == self.index


def split_folds(query_ids: Iterable[str], count: int = 2) -> list[list[str]]:
    """The query ids of each fold, in their given order."""
    folds: list[list[str]] = [[] for _ in range(count)]
    for query_id in query_ids:
        folds[fold_of(query_id, count)].append(query_id)
    return folds


def out_of_fold(
    by_model: Mapping[int, Mapping[str, T]], query_ids: Iterable[str], count: int = 2
) -> dict[str, T]:
    """Per query, the result of model k (trained without fold k) for the queries of fold k."""
    out: dict[str, T] = {}
    for query_id in query_ids:
        fold = fold_of(query_id, count)
        results = by_model.get(fold)
        if results is None or query_id not in results:
            raise KeyError(f"no out-of-fold result for query {query_id!r} (fold {fold})")
        out[query_id] = results[query_id]
    return out

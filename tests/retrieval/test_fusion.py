"""Weighted reciprocal-rank fusion against scores computed by hand."""

from __future__ import annotations

import random

import pytest

from rag_pipelines.retrieval.fusion import RankTable, fuse_rankings


@pytest.mark.parametrize(
    ("rankings", "weights", "k", "limit", "expected"),
    [
        ({"dense": ["a", "b", "c"]}, {}, 1, None, [("a", 1 / 2), ("b", 1 / 3), ("c", 1 / 4)]),
        ({"dense": ["a"]}, {}, 60, None, [("a", 1 / 61)]),  # the default k
        (  # agreement beats one leg's first place
            {"dense": ["a", "b"], "bm25": ["b", "c"]},
            {"dense": 1.0, "bm25": 1.0},
            1,
            None,
            [("b", 1 / 3 + 1 / 2), ("a", 1 / 2), ("c", 1 / 3)],
        ),
        (  # weights scale each leg
            {"dense": ["a", "b"], "bm25": ["b", "a"]},
            {"dense": 2.0, "bm25": 0.5},
            1,
            None,
            [("a", 2 / 2 + 0.5 / 3), ("b", 2 / 3 + 0.5 / 2)],
        ),
        (  # a leg without a weight counts 1.0
            {"dense": ["a"], "graph": ["b"]},
            {"dense": 0.5},
            1,
            None,
            [("b", 1 / 2), ("a", 0.5 / 2)],
        ),
        (  # equal scores: the better single rank first, though "a" < "z"
            {"A": ["z"], "B": ["x", "y", "a"], "C": ["w", "v", "a"]},
            {},
            1,
            None,
            [("w", 1 / 2), ("x", 1 / 2), ("z", 1 / 2), ("a", 2 / 4), ("v", 1 / 3), ("y", 1 / 3)],
        ),
        (  # equal scores and equal best ranks: by id
            {"dense": ["b"], "bm25": ["a"]},
            {},
            60,
            None,
            [("a", 1 / 61), ("b", 1 / 61)],
        ),
        (  # a leg listing an item twice counts it once, at its first (best) rank
            {"dense": ["a", "b", "a"]},
            {},
            1,
            None,
            [("a", 1 / 2), ("b", 1 / 3)],
        ),
        (  # ranks are positions in the leg's list, duplicates included
            {"dense": ["a", "a", "b"]},
            {},
            1,
            None,
            [("a", 1 / 2), ("b", 1 / 4)],
        ),
        (  # weight 0: no influence on scores; its items trail with score 0
            {"dense": ["a", "b"], "graph": ["c", "b"]},
            {"dense": 1.0, "graph": 0.0},
            1,
            None,
            [("a", 1 / 2), ("b", 1 / 3), ("c", 0.0)],
        ),
        ({"dense": ["a", "b", "c"]}, {}, 1, 2, [("a", 1 / 2), ("b", 1 / 3)]),
        ({"dense": ["a", "b", "c"]}, {}, 1, 0, []),
        ({"dense": ["a"]}, {}, 1, 10, [("a", 1 / 2)]),
        ({}, {}, 60, None, []),
        ({"dense": [], "bm25": []}, {}, 60, None, []),
    ],
)
def test_rrf_table(
    rankings: dict[str, list[str]],
    weights: dict[str, float],
    k: int,
    limit: int | None,
    expected: list[tuple[str, float]],
) -> None:
    """score(d) = Σ weight / (k + rank), best first; ties by best rank, then id."""
    fused = fuse_rankings(rankings, weights, k, limit)
    assert [f.id for f in fused] == [i for i, _ in expected]
    assert [f.score for f in fused] == pytest.approx([s for _, s in expected])


def test_ranks_are_reported_per_leg() -> None:
    """Each item carries its 1-based rank in every leg that returned it, zero-weight legs too."""
    fused = fuse_rankings(
        {"dense": ["a", "b"], "bm25": ["b", "a", "a"], "graph": ["c", "b"]},
        {"graph": 0.0},
    )
    assert {f.id: f.ranks for f in fused} == {
        "a": {"dense": 1, "bm25": 2},
        "b": {"dense": 2, "bm25": 1, "graph": 2},
        "c": {"graph": 1},
    }


def test_fusion_is_order_independent_across_legs() -> None:
    """The order in which legs are given changes nothing."""
    legs = {"dense": ["a", "b", "c"], "bm25": ["c", "d"], "graph": ["d", "a"]}
    forward = fuse_rankings(legs, {"graph": 0.5})
    backward = fuse_rankings(dict(reversed(list(legs.items()))), {"graph": 0.5})
    assert [(f.id, f.score, f.ranks) for f in forward] == [
        (f.id, pytest.approx(f.score), f.ranks) for f in backward
    ]


@pytest.mark.parametrize("seed", range(5))
def test_rank_table_fuses_as_fuse_rankings(seed: int) -> None:
    """The array fusion gives fuse_rankings' order, ranks and scores, duplicates and ties too."""
    rng = random.Random(seed)
    for _ in range(60):
        pool = [f"c{i}" for i in range(rng.randint(1, 50))]
        legs = {
            leg: [rng.choice(pool) for _ in range(rng.randint(0, 40))]
            for leg in ("dense", "bm25", "graph")
        }
        weights = {"dense": rng.choice([0.0, 0.5, 1.0]), "bm25": rng.choice([0.0, 1.0, 2.0])}
        k, limit = rng.choice([1, 10, 60]), rng.choice([None, 5, 20])
        expected = fuse_rankings(legs, weights, k, limit)
        got = RankTable(legs).fused(weights, k, limit)
        assert [(f.id, f.ranks) for f in got] == [(f.id, f.ranks) for f in expected]
        assert [f.score for f in got] == pytest.approx([f.score for f in expected], abs=1e-12)

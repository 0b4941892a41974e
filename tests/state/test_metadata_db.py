"""The metadata DB on a real PostgreSQL (and SQLite): live pointer CAS, history, vector cache."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from rag_pipelines.embedding.sql_cache import SqlEmbeddingCache
from rag_pipelines.state import LivePointerConflict, MetadataDB


@pytest.fixture(params=["postgres", "sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh metadata DB: PostgreSQL (the cluster's) and SQLite (one machine)."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'meta.sqlite'}"


def _race(db: MetadataDB, expected: str | None, rivals: list[str]) -> list[str]:
    """Every rival switches from `expected` at once; the ones that won."""
    barrier = threading.Barrier(len(rivals))
    won: list[str] = []
    lost: list[str] = []

    def publish(version: str) -> None:
        barrier.wait()
        try:
            db.switch_live(expected, version, f'{{"version": "{version}"}}')
            won.append(version)
        except LivePointerConflict:
            lost.append(version)

    threads = [threading.Thread(target=publish, args=(v,)) for v in rivals]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(won) + len(lost) == len(rivals)
    return won


def test_two_publishers_racing_exactly_one_wins(db_url: str) -> None:
    """Publishers switching from the same live version: one wins, the others change nothing."""
    db = MetadataDB(db_url, "race")
    first = _race(db, None, ["v1a", "v1b"])
    assert len(first) == 1
    live = first[0]
    for round_no in range(2, 7):
        won = _race(db, live, [f"v{round_no}a", f"v{round_no}b"])
        assert len(won) == 1, f"round {round_no}: {won} won"
        assert db.live_version() == won[0]
        live = won[0]
    assert len(db.history()) == 6  # one row per successful switch, none for the losers


def test_a_switch_from_a_stale_version_is_refused(db_url: str) -> None:
    db = MetadataDB(db_url, "stale")
    db.switch_live(None, "v1", '{"version": "v1"}')
    db.switch_live("v1", "v2", '{"version": "v2"}')
    with pytest.raises(LivePointerConflict, match="the live version is now v2, not v1"):
        db.switch_live("v1", "v3", '{"version": "v3"}')
    assert db.live_version() == "v2"
    assert MetadataDB(db_url, "other").live() is None  # pointers are per pipeline


def test_the_vector_cache_is_shared_and_idempotent(db_url: str) -> None:
    first = SqlEmbeddingCache(MetadataDB(db_url, "p").engine)
    second = SqlEmbeddingCache(MetadataDB(db_url, "p").engine)
    vec = np.arange(4, dtype=np.float32)
    first.put("fp", {"h1": vec, "h2": vec + 1})
    second.put("fp", {"h2": vec + 1, "h3": vec + 2})  # h2 stored twice: kept once
    assert second.missing("fp", ["h1", "h4", "h1"]) == ["h4"]
    got = second.get("fp", ["h1", "h3", "h9"])
    assert set(got) == {"h1", "h3"}
    np.testing.assert_array_equal(got["h3"], vec + 2)
    assert first.count("fp") == 3
    assert first.count("other") == 0

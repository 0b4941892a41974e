"""The embedding cache: exact float32 round trips, per-fingerprint key spaces, durable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag_pipelines.embedding.cache import EmbeddingCache


def vectors(count: int, dim: int = 384, seed: int = 0) -> dict[str, np.ndarray]:
    """Random float32 vectors keyed by fake text hashes."""
    rng = np.random.default_rng(seed)
    return {f"h{i:04d}": rng.standard_normal(dim).astype(np.float32) for i in range(count)}


@pytest.fixture
def cache(tmp_path: Path) -> EmbeddingCache:
    """A fresh cache in a nested folder that does not exist yet."""
    return EmbeddingCache(tmp_path / "cache" / "embeddings.sqlite")


def test_put_get_round_trip_is_bit_exact(cache: EmbeddingCache) -> None:
    """What goes in comes back as identical float32 values."""
    stored = vectors(3)
    cache.put("m", stored)
    got = cache.get("m", stored)
    assert got.keys() == stored.keys()
    for key, vector in stored.items():
        assert got[key].dtype == np.float32
        assert np.array_equal(got[key], vector)


def test_float64_input_is_stored_as_float32(cache: EmbeddingCache) -> None:
    """A float64 vector is narrowed to float32, not reinterpreted byte by byte."""
    value = np.array([0.1, -2.5, 3.0], dtype=np.float64)
    cache.put("m", {"h": value})
    assert np.array_equal(cache.get("m", ["h"])["h"], value.astype(np.float32))


def test_missing_dedups_and_keeps_first_seen_order(cache: EmbeddingCache) -> None:
    """missing() lists each absent hash once, in the order first asked."""
    cache.put("m", {"b": np.ones(2, dtype=np.float32)})
    assert cache.missing("m", ["c", "a", "b", "c", "a", "d"]) == ["c", "a", "d"]
    assert cache.get("m", ["b", "b", "zz"]).keys() == {"b"}


def test_fingerprints_are_separate_key_spaces(cache: EmbeddingCache) -> None:
    """A vector stored for one model is not found for another."""
    stored = vectors(2)
    cache.put("model-a", stored)
    assert cache.missing("model-b", stored) == list(stored)
    assert cache.get("model-b", stored) == {}
    assert (cache.count("model-a"), cache.count("model-b"), cache.count()) == (2, 0, 2)


def test_put_is_idempotent_and_replaces(cache: EmbeddingCache) -> None:
    """Storing a hash again keeps one row holding the newest vector."""
    cache.put("m", {"h": np.zeros(4, dtype=np.float32)})
    cache.put("m", {"h": np.ones(4, dtype=np.float32)})
    assert cache.count("m") == 1
    assert np.array_equal(cache.get("m", ["h"])["h"], np.ones(4, dtype=np.float32))


def test_cache_persists_across_reopen(tmp_path: Path) -> None:
    """Vectors survive closing and reopening the database file."""
    path = tmp_path / "embeddings.sqlite"
    stored = vectors(1200, dim=8)  # more than one SQLite IN (...) batch
    first = EmbeddingCache(path)
    first.put("m", stored)
    first.close()
    second = EmbeddingCache(path)
    assert second.missing("m", stored) == []
    got = second.get("m", stored)
    assert all(np.array_equal(got[k], v) for k, v in stored.items())
    second.close()

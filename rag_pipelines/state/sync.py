"""Stage boundaries: pull the prefixes a stage reads, push what it wrote when it succeeds."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from rag_pipelines.state.store import StateStore


@contextmanager
def synced(store: StateStore, prefixes: Iterable[str]) -> Iterator[None]:
    """Pull each prefix before the block; after it succeeds, push what changed under them.

    A failed stage pushes nothing, so the store keeps the last good state. Pushing only what
    changed since the pull means two runs owning different files under one prefix (per-shard
    folders) never overwrite each other.
    """
    baselines = {prefix: store.pull(prefix) for prefix in prefixes}
    yield
    for prefix, before in baselines.items():
        store.push(prefix, before)


def pull_all(store: StateStore, prefixes: Iterable[str]) -> None:
    """Bring prefixes a stage only reads into the local cache."""
    for prefix in prefixes:
        store.pull(prefix)


@contextmanager
def pushed(store: StateStore, prefixes: Iterable[str]) -> Iterator[None]:
    """After the block succeeds, push what changed under the prefixes (nothing is pulled)."""
    baselines = {prefix: store.baseline(prefix) for prefix in prefixes}
    yield
    for prefix, before in baselines.items():
        store.push(prefix, before)

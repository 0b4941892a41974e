"""The reranker kinds by name; `retrieval.rerank.kind` is validated against it.

As the legs' registry (config/legs.py): the registry sits in the config layer, the
implementations in the package `rag_pipelines.retrieval.rerankers` (one module per kind, each
calling `register`), loaded by name on first use; nothing here imports upward.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from rag_pipelines.config.plugins import import_plugins

RERANKERS_PACKAGE = "rag_pipelines.retrieval.rerankers"
DEFAULT_KIND = "cross-encoder"

# spec (rag_pipelines.retrieval.rerankers.base.RerankerSpec) -> a Reranker
RerankerFactory = Callable[[Any], Any]

_factories: dict[str, RerankerFactory] = {}
_loaded = False
_lock = threading.RLock()


class UnknownReranker(ValueError):
    """A reranker kind that no registered implementation has."""


def register(kind: str, factory: RerankerFactory) -> RerankerFactory:
    """Add a reranker kind (each module of the package registers itself when imported)."""
    with _lock:
        if kind in _factories and _factories[kind] is not factory:
            raise ValueError(f"a reranker kind named {kind!r} exists already")
        _factories[kind] = factory
    return factory


def reranker_factories() -> dict[str, RerankerFactory]:
    """Every reranker factory by kind."""
    global _loaded
    with _lock:
        if not _loaded:
            import_plugins(RERANKERS_PACKAGE)
            _loaded = True
        return dict(_factories)


def reranker_kinds() -> tuple[str, ...]:
    """The registered kinds, sorted (registration order depends on what was imported first)."""
    return tuple(sorted(reranker_factories()))


def check_reranker_kind(kind: str) -> str:
    """`kind` if registered; otherwise an error listing the known ones."""
    if kind not in reranker_factories():
        raise UnknownReranker(f"unknown reranker kind {kind!r}; known: {list(reranker_kinds())}")
    return kind

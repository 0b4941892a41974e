"""The retrieval legs by name; modes, default fusion weights and the tuning grid derive from it.

The registry sits in the config layer, below the legs: config validates mode and leg names and
derives the default fusion weights from it. The implementations live in the package
`rag_pipelines.retrieval.legs` (one module per leg, each calling `register`), which is loaded
by name on first use, as the connector registry loads connectors; nothing here imports upward.
"""

from __future__ import annotations

import threading
from typing import Protocol

from rag_pipelines.config.plugins import import_plugins

LEGS_PACKAGE = "rag_pipelines.retrieval.legs"
HYBRID = "hybrid"  # every leg, fused


class Leg(Protocol):
    """What the registry reads of a leg (the full protocol: rag_pipelines.retrieval.legs.base)."""

    name: str
    weight: float  # default fusion weight
    ranks_text: bool  # ranks by the query alone; fusion needs one such leg weighted


_legs: dict[str, Leg] = {}
_loaded = False
_lock = threading.RLock()


class UnknownLeg(ValueError):
    """A leg or mode name that no registered leg has."""


def register(leg: Leg) -> Leg:
    """Add a leg (each leg module registers itself when imported)."""
    with _lock:
        if leg.name == HYBRID or (leg.name in _legs and _legs[leg.name] is not leg):
            raise ValueError(f"a retrieval leg named {leg.name!r} exists already")
        _legs[leg.name] = leg
    return leg


def legs() -> dict[str, Leg]:
    """Every leg by name, in registration order (the modules of this package, then others)."""
    global _loaded
    with _lock:
        if not _loaded:
            import_plugins(LEGS_PACKAGE, order=_builtin_order)
            _loaded = True
        return dict(_legs)


def leg_names() -> tuple[str, ...]:
    """The names of the legs."""
    return tuple(legs())


def mode_names() -> tuple[str, ...]:
    """Each leg on its own, and hybrid."""
    return (*leg_names(), HYBRID)


def check_leg(name: str) -> str:
    """`name` if a leg has it; otherwise an error listing the known ones."""
    if name not in legs():
        raise UnknownLeg(f"unknown retrieval leg {name!r}; known: {list(leg_names())}")
    return name


def check_mode(name: str) -> str:
    """`name` if it is a mode; otherwise an error listing the known ones."""
    if name not in mode_names():
        raise UnknownLeg(f"unknown retrieval mode {name!r}; known: {list(mode_names())}")
    return name


def default_weights() -> dict[str, float]:
    """Each leg's default fusion weight."""
    return {name: leg.weight for name, leg in legs().items()}


def plan(mode: str, needs: dict[str, tuple[str, ...]]) -> list[list[str]]:
    """The legs a mode runs, in stages: each stage only reads legs of earlier stages."""
    wanted: set[str] = set()
    stack = list(leg_names()) if mode == HYBRID else [check_mode(mode)]
    while stack:
        name = stack.pop()
        if name not in wanted:
            wanted.add(name)
            stack.extend(needs[name])
    stages: list[list[str]] = []
    done: set[str] = set()
    while len(done) < len(wanted):
        ready = [n for n in leg_names() if n in wanted - done and set(needs[n]) <= done]
        if not ready:
            raise ValueError(f"retrieval legs depend on each other in a cycle: {sorted(wanted)}")
        stages.append(ready)
        done.update(ready)
    return stages


def _builtin_order(name: str) -> tuple[int, str]:
    builtin = ("dense", "bm25", "graph")
    return (builtin.index(name) if name in builtin else len(builtin), name)

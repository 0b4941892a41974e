"""Personalized PageRank by a bounded random walk with restart from seed nodes."""

from __future__ import annotations

import numpy as np
from scipy import sparse


class GraphWalker:
    """Ranks nodes by how often a walk that keeps restarting at the seeds visits them.

    Each step only touches the rows of nodes that currently hold probability mass, and the mass
    is pruned to the `beam` heaviest nodes, so a query costs the same at 10k or 100k chunks.
    """

    def __init__(self, nodes: list[str], transition: sparse.csr_array, beam: int = 4000) -> None:
        self.nodes = nodes
        self.index = {n: i for i, n in enumerate(nodes)}
        self.transition = transition
        self.beam = beam
        self.is_chunk = np.fromiter(
            (n.startswith("c:") for n in nodes), dtype=bool, count=len(nodes)
        )

    def walk(
        self, seeds: dict[str, float], steps: int = 3, restart: float = 0.3
    ) -> dict[str, float]:
        """Visit probability of every reached chunk node (node id → score)."""
        known = {self.index[n]: w for n, w in seeds.items() if n in self.index and w > 0}
        if not known:
            return {}
        idx = np.fromiter(known, dtype=np.int64)
        mass = np.fromiter(known.values(), dtype=np.float64)
        mass /= mass.sum()
        start_idx, start_mass = idx, mass
        total = np.zeros(len(self.nodes))
        for _ in range(steps):
            spread = self.transition[idx].T @ mass  # dense vector; only frontier rows are read
            spread *= 1 - restart
            np.add.at(spread, start_idx, restart * start_mass)
            idx = np.flatnonzero(spread)
            if len(idx) > self.beam:
                idx = idx[np.argpartition(spread[idx], -self.beam)[-self.beam :]]
            mass = spread[idx]
            total[idx] += mass
        chunks = idx[self.is_chunk[idx]]
        return {self.nodes[i][2:]: float(total[i]) for i in chunks}

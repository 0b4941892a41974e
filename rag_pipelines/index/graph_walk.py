"""Personalized PageRank by a bounded random walk with restart from seed nodes."""

from __future__ import annotations

import copy

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
        self.seedable = np.ones(len(nodes), dtype=bool)
        self.phrases: dict[str, list[int]] = {}  # phrase → its node in every access layer
        for i, node in enumerate(nodes):
            if node.startswith("p:"):
                self.phrases.setdefault(node[2:].rsplit("|", 1)[-1], []).append(i)

    def masked(self, allowed: np.ndarray) -> GraphWalker:
        """The walk on the graph without the nodes `allowed` marks False (a boolean per node).

        Edges into hidden nodes are dropped and every row renormalized, which is exactly the
        transition matrix of the graph the hidden nodes were never part of: no score, rank or
        neighbour depends on them. A phrase left with no visible neighbour is no seed either.
        """
        keep = sparse.diags_array(allowed.astype(np.float64))
        kept = sparse.csr_array(keep @ self.transition @ keep)
        out = np.asarray(kept.sum(axis=1)).ravel()
        scale = np.divide(1.0, out, out=np.zeros_like(out), where=out > 0)
        walker = copy.copy(self)  # shares nodes, index and is_chunk
        walker.transition = sparse.csr_array(sparse.diags_array(scale) @ kept)
        walker.seedable = allowed & (self.is_chunk | (out > 0))
        return walker

    def walk(
        self, seeds: dict[str, float], steps: int = 3, restart: float = 0.3
    ) -> dict[str, float]:
        """Visit probability of every reached chunk node (node id → score)."""
        return self.walk_indices(
            {i: w for n, w in seeds.items() if (i := self.index.get(n)) is not None},
            steps,
            restart,
        )

    def walk_indices(
        self, seeds: dict[int, float], steps: int = 3, restart: float = 0.3
    ) -> dict[str, float]:
        """As walk, with seeds given by node index."""
        known = {i: w for i, w in seeds.items() if w > 0 and self.seedable[i]}
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

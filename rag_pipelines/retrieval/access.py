"""A version's access rules at query time: the store filter and the graph a caller may walk."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace

import numpy as np

from rag_pipelines.index.access import AccessPolicy, Readers, can_read
from rag_pipelines.index.graph_walk import GraphWalker
from rag_pipelines.index.vector_store import PayloadFilter

PHRASE = -1  # the access class of nodes that belong to no document


class VersionAccess:
    """Per caller: the payload filter for Qdrant, and the graph with hidden documents removed.

    Every chunk is a graph node, so the group sets seen on the graph's nodes are all the version
    holds: a caller who can read all of them gets no filter and the unmasked walk (the fast path
    for an all-public corpus). Masked walkers are cached per group set.
    """

    def __init__(
        self,
        policy: AccessPolicy,
        walker: GraphWalker,
        owners: list[tuple[str, str] | None],
        layers: list[tuple[str, ...] | None] | None = None,
        cached_walkers: int = 8,
    ) -> None:
        self.policy = policy
        self.walker = walker
        classes: dict[tuple[str, ...], int] = {}
        self.node_class = np.full(len(owners), PHRASE, dtype=np.int32)
        for i, owner in enumerate(owners):
            # A phrase of an access layer is visible with the chunks it was counted from.
            layer = layers[i] if layers is not None else None
            groups = policy.groups_of(*owner) if owner is not None else layer
            if groups is not None:
                self.node_class[i] = classes.setdefault(tuple(sorted(set(groups))), len(classes))
        self.classes = list(classes)
        self._walkers: OrderedDict[frozenset[str], GraphWalker] = OrderedDict()
        self._cached_walkers = cached_walkers
        self._lock = threading.Lock()

    def open_to(self, readers: Readers) -> bool:
        """True if every chunk of the version is visible to `readers`."""
        return readers is None or all(can_read(g, readers) for g in self.classes)

    def restrict(self, flt: PayloadFilter | None, readers: Readers) -> PayloadFilter | None:
        """`flt` narrowed to the chunks `readers` may see."""
        if readers is None or self.open_to(readers):
            return flt
        groups = tuple(sorted(readers))
        return replace(flt, groups=groups) if flt is not None else PayloadFilter(groups=groups)

    def walker_for(self, readers: Readers) -> GraphWalker:
        """The graph walk over visible documents and chunks only."""
        if readers is None or self.open_to(readers):
            return self.walker
        with self._lock:
            walker = self._walkers.get(readers)
            if walker is not None:
                self._walkers.move_to_end(readers)
                return walker
        visible = [i for i, groups in enumerate(self.classes) if can_read(groups, readers)]
        allowed = (self.node_class == PHRASE) | np.isin(self.node_class, visible)
        walker = self.walker.masked(allowed)
        with self._lock:
            self._walkers[readers] = walker
            while len(self._walkers) > self._cached_walkers:
                self._walkers.popitem(last=False)
        return walker

    def readable(self, source: str, document_id: str, readers: Readers) -> bool:
        """True if `readers` may see the document."""
        return self.policy.readable(source, document_id, readers)

"""Shards of a source: which shard a document falls in, and the partition key of each shard.

A source with `shards: N` is ingested, chunked and embedded as N partitions. A document belongs
to shard `blake2b(document id) mod N` — stable across processes, machines and Python versions
(never `hash()`, which is salted per process). With one shard (the default) the partition key
is the source name, as before sharding existed; with N > 1 it is `<source>~<k>` (`~` cannot
occur in a source name, which matches `^[a-z][a-z0-9_]*$`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from rag_pipelines.errors import RagPipelinesError

SEPARATOR = "~"
MAX_SHARDS = 1024


class UnknownPartition(RagPipelinesError):
    """A partition key that names no source or shard of this sources.yaml."""


def shard_of(document_id: str, shards: int) -> int:
    """The shard (0..shards-1) a document id falls in: the first 8 bytes of blake2b, mod N."""
    if shards <= 1:
        return 0
    digest = hashlib.blake2b(document_id.encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(digest.digest(), "big") % shards


@dataclass(frozen=True, order=True)
class Shard:
    """One partition of a source: shard `index` of `count`."""

    source: str
    index: int = 0
    count: int = 1

    @property
    def key(self) -> str:
        """The Dagster partition key: the source name when unsharded, else `<source>~<k>`."""
        return self.source if self.count == 1 else f"{self.source}{SEPARATOR}{self.index}"

    @property
    def folder(self) -> int | None:
        """The Workspace shard argument: None keeps an unsharded source's state where it was."""
        return None if self.count == 1 else self.index

    def holds(self, document_id: str) -> bool:
        """Whether a document id belongs to this shard."""
        return shard_of(document_id, self.count) == self.index


class ShardedSource(Protocol):
    """What sharding needs of a source's config."""

    @property
    def name(self) -> str: ...

    @property
    def shards(self) -> int: ...


def shards_of(source: ShardedSource) -> list[Shard]:
    """Every shard of a source, in index order."""
    return [Shard(source.name, k, source.shards) for k in range(source.shards)]


def partition_keys(sources: Iterable[ShardedSource]) -> list[str]:
    """Every partition key of the given sources, source by source, shard by shard."""
    return [shard.key for source in sources for shard in shards_of(source)]


def parse_key(key: str) -> tuple[str, int | None]:
    """(source, shard index) of a partition key; the index is None for a bare source name."""
    source, sep, index = key.partition(SEPARATOR)
    if not sep:
        return source, None
    if not index.isdigit():
        raise UnknownPartition(f"partition key {key!r}: expected <source>{SEPARATOR}<shard number>")
    return source, int(index)


def resolve(sources: Iterable[ShardedSource], key: str) -> Shard:
    """The shard a partition key names (a bare name is accepted only for unsharded sources)."""
    name, index = parse_key(key)
    by_name = {s.name: s for s in sources}
    if name not in by_name:
        raise UnknownPartition(f"no source {name!r} (partition {key!r}); sources: {list(by_name)}")
    count = by_name[name].shards
    if index is None and count == 1:
        return Shard(name)
    if index is None or count == 1 or not 0 <= index < count:
        keys = [s.key for s in shards_of(by_name[name])]
        raise UnknownPartition(f"source {name!r} has no partition {key!r}; its keys are {keys}")
    return Shard(name, index, count)

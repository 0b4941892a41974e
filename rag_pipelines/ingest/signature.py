"""A cheap fingerprint of what a source holds now (no document is parsed).

Sensors compare it with the signature of the last ingest to decide whether a source (or one of
its shards) changed.
"""

from __future__ import annotations

from collections.abc import Mapping

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest.connectors.base import ShardSignatures, SignsListings, as_connector
from rag_pipelines.ingest.models import Document
from rag_pipelines.shards import Shard


def listing_signature(source: SourceConfig) -> str:
    """The source's connector's signature of its current listing."""
    return as_connector(source.connector).signature()


def shard_signatures(
    source: SourceConfig, previous: Mapping[str, Document] | None = None
) -> list[str]:
    """One signature per shard of the source, in shard order.

    An unsharded source keeps its connector's signature. A connector that cannot sign shards
    apart gives every shard the whole signature: a change then re-lists every shard, and each
    re-parses only its own changed documents. A connector that signs by listing (a crawl) lists
    conditionally against `previous` (the stored documents), so the check costs 304s.
    """
    connector = as_connector(source.connector)
    if isinstance(connector, SignsListings):
        return signed_shards(source, connector.signature_since(previous or {}))
    if source.shards == 1:
        return [connector.signature()]
    if isinstance(connector, ShardSignatures):
        return connector.shard_signatures(source.shards)
    return [f"{source.shards}:{connector.signature()}"] * source.shards


def signed_shards(source: SourceConfig, signature: str) -> list[str]:
    """A whole listing's signature as each shard's (the shard count included when sharded)."""
    if source.shards == 1:
        return [signature]
    return [f"{source.shards}:{signature}"] * source.shards


def signs_listings(source: SourceConfig) -> bool:
    """True when the source's listings carry their own signature (no separate check needed)."""
    return isinstance(as_connector(source.connector), SignsListings)


def shard_signature(source: SourceConfig, shard: Shard) -> str:
    """The signature of one shard of the source."""
    return shard_signatures(source)[shard.index]


def source_available(source: SourceConfig) -> bool:
    """False while the source cannot be reached (its change is judged when it is back)."""
    return as_connector(source.connector).available()

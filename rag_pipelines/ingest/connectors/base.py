"""The Connector protocol: what every source of documents provides to ingestion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from rag_pipelines.config.connectors import ConnectorSettings
from rag_pipelines.ingest.models import Document, IngestFailure

Scalar = str | int | float | bool


@dataclass(frozen=True)
class SourceItem:
    """One document as the connector sees it: identity and version, not yet parsed.

    `content_hash` changes whenever the content does (a hash of the bytes, or of the source's
    own version: an ETag, an `updated_at`); an item with `path` is parsed from that file, one
    with `text` is taken as is, any other is read through the connector's `open`.
    """

    id: str
    uri: str
    content_hash: str
    modified_at: str | None
    size_bytes: int | None
    path: Path | None = None
    title: str | None = None
    text: str | None = None
    metadata: Mapping[str, Scalar] = field(default_factory=dict)
    access_groups: tuple[str, ...] | None = None  # None: the source's configured groups
    fallback_encoding: str = "cp1252"
    file_name: str | None = None  # for bytes from `open`: picks the parser by its extension
    links: tuple[str, ...] | None = None  # link targets as the connector resolved them
    encoding: str | None = None  # the charset the transport declared (HTTP Content-Type)


@dataclass
class Listing:
    """What a connector found: items to ingest, items it could not read, id prefixes it could
    not list ("" for everything: their documents are unknown this time, not deleted).

    Deletes are detected by absence: a previous document whose id is neither listed, failed,
    nor under an unlisted prefix is deleted.
    """

    items: list[SourceItem]
    failures: list[IngestFailure]
    unlisted: list[str] = field(default_factory=list)
    signature: str | None = None  # set by a SignsListings connector: the listing's signature


@runtime_checkable
class Connector(Protocol):
    """A source of documents (implemented by a ConnectorSettings subclass, one per module)."""

    type: str

    def list_documents(self, source: str, previous: Mapping[str, Document]) -> Listing:
        """Every document now in the source, in a stable order (`previous`: the last run's)."""
        ...

    def signature(self) -> str:
        """A cheap fingerprint of the listing (no content read): sensors compare it."""
        ...

    def open(self, item: SourceItem) -> bytes:
        """The bytes of an item that carries neither `path` nor `text`."""
        ...

    def available(self) -> bool:
        """False while the source cannot be reached at all (then nothing is treated as deleted)."""
        ...


@runtime_checkable
class ShardSignatures(Protocol):
    """A connector that can fingerprint each shard of its listing apart (optional).

    Without it every shard gets the whole signature, so any change re-lists all shards.
    """

    def shard_signatures(self, shards: int) -> list[str]:
        """One cheap fingerprint per shard (documents by `shard_of(id, shards)`), in order."""
        ...


@runtime_checkable
class SignsListings(Protocol):
    """A connector whose change check has to list (a crawl: no index of pages exists) (optional).

    Its listings carry their own `signature`, so an ingest signs the listing it made instead of
    listing twice, and the change check lists against the last run's documents, so an unchanged
    item costs what the source's validators allow (a 304), not a full read.
    """

    def signature_since(self, previous: Mapping[str, Document]) -> str:
        """The signature, listing conditionally against `previous` (the last run's documents)."""
        ...


def as_connector(settings: ConnectorSettings) -> Connector:
    """The settings of a source's connector, as the Connector they implement."""
    if not isinstance(settings, Connector):
        raise TypeError(f"{type(settings).__name__} does not implement the Connector protocol")
    return settings


def iso_time(epoch: float) -> str:
    """UTC ISO-8601 for a POSIX timestamp."""
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds")

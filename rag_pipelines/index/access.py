"""Which groups may read each document of a version, from the access settings it was built with."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rag_pipelines.config.access import EVERYTHING, PUBLIC, AccessSettings
from rag_pipelines.ingest.globs import glob_matches

DOCUMENT_GROUPS = "access_documents"  # the snapshot settings key of per-document groups
Readers = frozenset[str] | None  # a caller's groups (public included); None reads everything


def reader_groups(groups: Iterable[str]) -> Readers:
    """What a caller with these groups reads: everything with `*`, else its groups and public."""
    groups = frozenset(groups)
    return None if EVERYTHING in groups else groups | {PUBLIC}


def can_read(document_groups: Iterable[str], readers: Readers) -> bool:
    """True if a document with these groups is visible to `readers`."""
    return readers is None or not readers.isdisjoint(document_groups)


class AccessPolicy:
    """Resolves document → groups; a source the version has no settings for is readable by none.

    Stored per version (snapshot settings), so a served version answers with the access it was
    built with, and a version built before access control hides everything from restricted keys.
    A document's groups: a matching `documents` glob of its source's settings, else the groups
    its connector read from the source's own metadata (`documents`), else the source's groups.
    """

    def __init__(
        self,
        sources: Mapping[str, AccessSettings],
        documents: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
    ) -> None:
        self.sources = dict(sources)
        self.documents = {
            source: {doc: tuple(sorted(set(groups))) for doc, groups in docs.items()}
            for source, docs in (documents or {}).items()
        }
        self._cache: dict[tuple[str, str], tuple[str, ...]] = {}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> AccessPolicy:
        """The policy recorded in a snapshot's or manifest's `settings`."""
        recorded = settings.get("access") or {}
        return cls(
            {name: AccessSettings.model_validate(s) for name, s in recorded.items()},
            settings.get(DOCUMENT_GROUPS) or {},
        )

    def documents_to_settings(self) -> dict[str, dict[str, list[str]]]:
        """Per-document groups from the sources' own metadata, as stored in a snapshot."""
        return {
            source: {doc: list(groups) for doc, groups in sorted(docs.items())}
            for source, docs in sorted(self.documents.items())
            if docs
        }

    def to_settings(self) -> dict[str, Any]:
        """The policy as stored in a snapshot's settings (and hashed into its content hash)."""
        return {name: s.model_dump(mode="json") for name, s in sorted(self.sources.items())}

    def groups_of(self, source: str, document_id: str) -> tuple[str, ...]:
        """The groups that may read a document (empty: nobody but unrestricted callers)."""
        key = (source, document_id)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._resolve(source, document_id)
            if len(self._cache) < 1_000_000:
                self._cache[key] = cached
        return cached

    def _resolve(self, source: str, document_id: str) -> tuple[str, ...]:
        settings = self.sources.get(source)
        if settings is None:
            return ()
        for pattern, groups in settings.documents.items():
            if glob_matches(pattern, document_id):  # in NFC: how a name is spelled never matters
                return tuple(sorted(set(groups)))
        own = self.documents.get(source, {}).get(document_id)
        return own if own is not None else tuple(sorted(set(settings.groups)))

    def readable(self, source: str, document_id: str, readers: Readers) -> bool:
        """True if `readers` may see the document."""
        return can_read(self.groups_of(source, document_id), readers)

    def source_open_to(self, source: str, readers: Readers) -> bool:
        """True if every document the source could hold is visible to `readers`."""
        settings = self.sources.get(source)
        if readers is None:
            return True
        if settings is None:
            return False
        own = self.documents.get(source, {}).values()
        return all(
            can_read(g, readers) for g in [settings.groups, *settings.documents.values(), *own]
        )

    def open_to(self, readers: Readers, sources: Iterable[str]) -> bool:
        """True if nothing in these sources is hidden from `readers` (no filter needed)."""
        return all(self.source_open_to(s, readers) for s in sources)


class NarrowedPolicy(AccessPolicy):
    """A version's own policy narrowed by the live one: readable only where both allow.

    An older version keeps the access it was built with; read through this, it never shows a
    caller what the live policy hides (revoked access stays revoked in every version).
    """

    def __init__(self, own: AccessPolicy, live: AccessPolicy) -> None:
        super().__init__(own.sources)
        self.live = live

    def readable(self, source: str, document_id: str, readers: Readers) -> bool:
        """True if both policies let `readers` see the document."""
        return super().readable(source, document_id, readers) and self.live.readable(
            source, document_id, readers
        )

    def source_open_to(self, source: str, readers: Readers) -> bool:
        """True if both policies open the whole source to `readers`."""
        return super().source_open_to(source, readers) and self.live.source_open_to(source, readers)

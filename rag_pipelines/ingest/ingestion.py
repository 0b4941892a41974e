"""Ingest a source: list it, reuse unchanged documents, parse the rest, record failures."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest.connectors.base import Connector, Listing, SourceItem, as_connector
from rag_pipelines.ingest.limits import ParseLimits
from rag_pipelines.ingest.models import Document, IngestFailure
from rag_pipelines.ingest.parsing import parse_source_item
from rag_pipelines.ingest.pii import PiiRedactor
from rag_pipelines.ingest.safety import redact_document

Progress = Callable[[int, int], None]


@dataclass
class IngestReport:
    """The documents of a source after a run, and what changed."""

    documents: list[Document]
    failures: list[IngestFailure]
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # failed now; the last good version is kept
    seconds: float = 0.0
    signature: str | None = None  # the listing's own signature (a SignsListings connector's)


def ingest_source(
    source: SourceConfig,
    previous: Mapping[str, Document],
    progress: Progress | None = None,
    redactor: PiiRedactor | None = None,
    policy: str = "off",
    only: Callable[[str], bool] | None = None,
) -> IngestReport:
    """Parse new and changed documents; a bad file becomes a failure, never an exception.

    A document that fails (unreadable, corrupt, vanished mid-run, in a folder that cannot be
    listed) keeps its last good version: only a file's absence from a complete listing deletes
    it. `policy` names the redaction settings; a document parsed under another policy is parsed
    again, so turning redaction on reaches documents that did not change. `only` keeps the
    listed documents (and listing failures) whose id it accepts: one shard of the source.
    """
    started = time.perf_counter()
    connector = as_connector(source.connector)
    limits = ParseLimits.of(source.connector)
    listing = list_source(source, previous)
    if only is not None:
        listing = Listing(
            items=[i for i in listing.items if only(i.id)],
            failures=[f for f in listing.failures if only(f.document_id)],
            unlisted=listing.unlisted,
            signature=listing.signature,
        )
    report = IngestReport(
        documents=[], failures=list(listing.failures), signature=listing.signature
    )
    total = len(listing.items)
    for i, item in enumerate(listing.items, start=1):
        old = previous.get(item.id)
        same_policy = old is not None and old.metadata.get("pii_policy", "off") == policy
        if old is not None and old.content_hash == item.content_hash and same_policy:
            report.documents.append(_refreshed(old, item))
            report.unchanged.append(item.id)
        else:
            document = _parse(item, source.name, connector, limits, report.failures)
            if document is not None:
                if redactor is not None:
                    document = redact_document(document, redactor)
                document.metadata["pii_policy"] = policy
                report.documents.append(document)
                (report.changed if old is not None else report.added).append(item.id)
            elif old is not None:
                report.documents.append(_kept(old, redactor, policy))
                report.kept.append(item.id)
        if progress is not None:
            progress(i, total)
    present = {d.id for d in report.documents}
    unreadable = {f.document_id for f in listing.failures}
    for doc_id, old in previous.items():
        unlisted = any(doc_id.startswith(prefix) for prefix in listing.unlisted)
        if doc_id not in present and (doc_id in unreadable or unlisted):
            report.documents.append(_kept(old, redactor, policy))
            report.kept.append(doc_id)
    present = {d.id for d in report.documents}
    report.deleted = sorted(set(previous) - present)
    report.seconds = time.perf_counter() - started
    return report


def list_source(source: SourceConfig, previous: Mapping[str, Document] | None = None) -> Listing:
    """Every document the source's connector lists now (`previous`: the last run's)."""
    return as_connector(source.connector).list_documents(source.name, previous or {})


def _kept(old: Document, redactor: PiiRedactor | None, policy: str) -> Document:
    """A failed document's last good version, redacted if the policy changed since."""
    if redactor is None or old.metadata.get("pii_policy", "off") == policy:
        return old
    kept = redact_document(old, redactor)
    kept.metadata["pii_policy"] = policy
    return kept


def _refreshed(old: Document, item: SourceItem) -> Document:
    """An unchanged document with what may move without its content: time, uri, groups."""
    update: dict[str, object] = {}
    if old.modified_at != item.modified_at or old.uri != item.uri:
        update |= {"modified_at": item.modified_at, "uri": item.uri}
    groups = list(item.access_groups) if item.access_groups is not None else None
    if old.access_groups != groups:
        update["access_groups"] = groups
    if any(old.metadata.get(k) != v for k, v in item.metadata.items()):
        update["metadata"] = {**old.metadata, **item.metadata}
    return old.model_copy(update=update) if update else old


def _parse(
    item: SourceItem,
    source: str,
    connector: Connector,
    limits: ParseLimits,
    failures: list[IngestFailure],
) -> Document | None:
    try:
        return parse_source_item(item, source, connector.open, limits)
    except Exception as exc:  # any parser error: record it and go on with the other files
        failures.append(
            IngestFailure(
                source=source,
                document_id=item.id,
                uri=item.uri,
                reason=_reason(exc),
                error_type=getattr(exc, "kind", type(exc).__name__),
            )
        )
        return None


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:500]

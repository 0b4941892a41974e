"""Connectors: list a source's documents with ids, hashes and times, without parsing them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rag_pipelines.config.models import BeirConnector, FilesystemConnector, SourceConfig
from rag_pipelines.hashing import sha256_bytes, sha256_text
from rag_pipelines.ingest.globs import compile_glob, matches
from rag_pipelines.ingest.models import IngestFailure

SKIPPED_NAMES = (".DS_Store", "Thumbs.db")  # also left out of the listing signature


@dataclass(frozen=True)
class SourceItem:
    """One document as the connector sees it: identity and content, not yet parsed."""

    id: str
    uri: str
    content_hash: str
    modified_at: str | None
    size_bytes: int | None
    path: Path | None = None
    title: str | None = None
    text: str | None = None


@dataclass
class Listing:
    """What a connector found: items to ingest, items it could not read, folders it could not
    list ("" for the root: their documents are unknown this time, not deleted)."""

    items: list[SourceItem]
    failures: list[IngestFailure]
    unlisted: list[str] = field(default_factory=list)


def list_source(source: SourceConfig) -> Listing:
    """Every document of a source, in a stable order."""
    connector = source.connector
    if isinstance(connector, FilesystemConnector):
        return _list_filesystem(source.name, connector)
    return _list_beir(source.name, connector)


def iso_time(epoch: float) -> str:
    """UTC ISO-8601 for a POSIX timestamp."""
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds")


def _walk(root: Path, on_error: Callable[[OSError], None]) -> Iterator[tuple[Path, bool]]:
    """(path, is a directory link) of every visible file, and of every directory link."""
    # Directory links are reported, never followed, so a symlink loop cannot hang the walk.
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in dirnames:
            if (Path(dirpath) / name).is_symlink():
                yield Path(dirpath) / name, True
        for name in sorted(filenames):
            if not name.startswith((".", "~$")) and name not in SKIPPED_NAMES:
                yield Path(dirpath) / name, False


def _list_filesystem(source: str, conn: FilesystemConnector) -> Listing:
    root = conn.root.resolve()
    limit = int(conn.max_file_mb * 1024 * 1024)
    items: list[SourceItem] = []
    failures: list[IngestFailure] = []
    unlisted: list[str] = []

    def unreadable_folder(exc: OSError) -> None:
        folder = Path(str(exc.filename or root))
        rel = folder.relative_to(root).as_posix() if folder.is_relative_to(root) else "."
        unlisted.append("" if rel == "." else f"{rel}/")
        failures.append(
            IngestFailure(
                source=source,
                document_id=unlisted[-1] or "./",
                uri=folder.as_uri(),
                reason=f"cannot list the folder (its documents are kept as they were): {exc}",
                error_type=type(exc).__name__,
            )
        )

    for path, dir_link in _walk(root, unreadable_folder):
        rel = path.relative_to(root).as_posix()
        uri = path.as_uri()

        def fail(reason: str, kind: str, rel: str = rel, uri: str = uri) -> None:
            failures.append(
                IngestFailure(
                    source=source, document_id=rel, uri=uri, reason=reason, error_type=kind
                )
            )

        if dir_link:
            # Inside the root its files are listed under their real paths; outside, refused.
            real = path.resolve()
            if not real.is_relative_to(root) and not _excluded(rel, conn.exclude):
                fail(
                    f"refused: directory link resolves outside the source root ({real})",
                    "OutsideRoot",
                )
            continue
        if not matches(rel, conn.include, conn.exclude):
            continue
        try:
            real = path.resolve(strict=True)
            if not real.is_relative_to(root):
                fail(f"refused: resolves outside the source root ({real})", "OutsideRoot")
                continue
            stat = real.stat()
            if stat.st_size > limit:
                fail(
                    f"file is {stat.st_size} bytes, over max_file_mb={conn.max_file_mb}", "TooLarge"
                )
                continue
            if stat.st_size == 0:
                fail("the file is empty (0 bytes)", "EmptyFile")
                continue
            data = real.read_bytes()
        except (OSError, RuntimeError) as exc:
            fail(f"cannot read: {exc}", type(exc).__name__)
            continue
        items.append(
            SourceItem(
                id=rel,
                uri=uri,
                content_hash=sha256_bytes(data),
                modified_at=iso_time(stat.st_mtime),
                size_bytes=stat.st_size,
                path=real,
            )
        )
    return Listing(items=items, failures=failures, unlisted=unlisted)


def _excluded(rel_dir: str, exclude: list[str]) -> bool:
    """True if an exclude pattern names the folder or everything in it."""
    names = (rel_dir, f"{rel_dir}/", f"{rel_dir}/x")
    return any(compile_glob(pattern).match(name) for pattern in exclude for name in names)


def _list_beir(source: str, conn: BeirConnector) -> Listing:
    corpus = conn.path / "corpus.jsonl"
    modified = iso_time(corpus.stat().st_mtime)
    wanted = set(conn.ids) if conn.ids is not None else None
    items: list[SourceItem] = []
    failures: list[IngestFailure] = []
    with corpus.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict) or "_id" not in record:
                    raise ValueError('expected a JSON object with an "_id"')
                doc_id = str(record["_id"])
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                failures.append(
                    IngestFailure(
                        source=source,
                        document_id=f"line-{line_no}",
                        uri=f"{corpus.as_uri()}#L{line_no}",
                        reason=f"bad BEIR record: {exc}",
                        error_type=type(exc).__name__,
                    )
                )
                continue
            if wanted is not None and doc_id not in wanted:
                continue
            title = str(record.get("title") or "")
            text = str(record.get("text") or "")
            items.append(
                SourceItem(
                    id=doc_id,
                    uri=f"{corpus.as_uri()}#{doc_id}",
                    content_hash=sha256_text(title, text),
                    modified_at=modified,
                    size_bytes=len(line.encode("utf-8")),
                    title=title,
                    text=text,
                )
            )
            if conn.limit is not None and len(items) >= conn.limit:
                break
    return Listing(items=items, failures=failures)

"""Files under a root directory, selected by glob patterns relative to the root."""

from __future__ import annotations

import codecs
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from rag_pipelines.config.base import resolve_path
from rag_pipelines.config.connectors import ConnectorSettings
from rag_pipelines.hashing import sha256_bytes
from rag_pipelines.ingest.connectors.base import Listing, SourceItem, iso_time
from rag_pipelines.ingest.globs import glob_matches, matches
from rag_pipelines.ingest.models import Document, IngestFailure
from rag_pipelines.ingest.paths import UnsafePath, check_name, escaped, locate
from rag_pipelines.shards import shard_of

SKIPPED_NAMES = (".DS_Store", "Thumbs.db")  # also left out of the listing signature


class FilesystemConnector(ConnectorSettings):
    """Files under a root directory, selected by glob patterns relative to the root."""

    type: Literal["filesystem"] = Field(description="filesystem: files under a folder.")
    root: Path = Field(description="The folder to index (relative to sources.yaml).")
    include: list[str] = Field(
        default_factory=lambda: ["**/*"],
        min_length=1,
        description="Globs relative to root; ** crosses folders.",
    )
    exclude: list[str] = Field(default_factory=list, description="Globs relative to root left out.")
    max_file_mb: float = Field(50.0, gt=0, description="Larger files are quarantined, not read.")
    fallback_encoding: str = Field(
        "cp1252", description="How text files that are not valid UTF-8 are decoded."
    )

    @field_validator("root")
    @classmethod
    def _root_exists(cls, value: Path, info: ValidationInfo) -> Path:
        path = resolve_path(value, info)
        if not path.is_dir():
            raise ValueError(f"directory does not exist: {path}")
        return path

    @field_validator("include", "exclude")
    @classmethod
    def _inside_root(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            parts = pattern.replace("\\", "/").split("/")
            if pattern.startswith("/") or ".." in parts:
                raise ValueError(
                    f"pattern {pattern!r} leaves the source root: patterns are relative to "
                    "`root` and may not be absolute or contain '..' (move `root` up instead)"
                )
        return patterns

    @field_validator("fallback_encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding {value!r} (e.g. cp1252, latin-1)") from None
        return value

    def list_documents(self, source: str, previous: Mapping[str, Document]) -> Listing:
        """Every selected file under the root, read and hashed."""
        return _list_filesystem(source, self)

    def signature(self) -> str:
        """sha256 over (relative path, size, mtime) of every selected file, in order."""
        return _signatures(self, 1)[0]

    def shard_signatures(self, shards: int) -> list[str]:
        """The same fingerprint, one per shard, each over the files whose path hashes to it."""
        return _signatures(self, shards)

    def open(self, item: SourceItem) -> bytes:
        """The file's bytes."""
        return (item.path or self.root / item.id).read_bytes()

    def available(self) -> bool:
        """An unmounted root would list as empty (os.walk stays silent): wait until it is back."""
        return self.root.is_dir()


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

    seen: set[str] = set()
    for path, dir_link in _walk(root, unreadable_folder):
        rel = path.relative_to(root).as_posix()
        uri = path.as_uri()

        def fail(reason: str, kind: str, rel: str = rel, uri: str = uri) -> None:
            failures.append(
                IngestFailure(
                    source=source, document_id=rel, uri=uri, reason=reason, error_type=kind
                )
            )

        try:
            check_name(rel)
        except UnsafePath as exc:
            fail(str(exc), exc.kind, escaped(rel))
            continue
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
            # A link is listed under its target, so access follows the content, once.
            located = locate(root, path)
            if located.linked and not matches(located.rel, conn.include, conn.exclude):
                continue
            if located.rel in seen:
                continue
            seen.add(located.rel)
            rel, real = located.rel, located.real
            stat = real.stat()
            if stat.st_size > limit:
                fail(
                    f"file is {stat.st_size} bytes, over max_file_mb={conn.max_file_mb}",
                    "TooLarge",
                    rel,
                )
                continue
            if stat.st_size == 0:
                fail("the file is empty (0 bytes)", "EmptyFile", rel)
                continue
            data = real.read_bytes()
        except UnsafePath as exc:
            fail(str(exc), exc.kind)
            continue
        except (OSError, RuntimeError) as exc:
            fail(f"cannot read: {exc}", type(exc).__name__, rel)
            continue
        items.append(
            SourceItem(
                id=rel,
                uri=real.as_uri(),
                content_hash=sha256_bytes(data),
                modified_at=iso_time(stat.st_mtime),
                size_bytes=stat.st_size,
                path=real,
                fallback_encoding=conn.fallback_encoding,
            )
        )
    return Listing(items=items, failures=failures, unlisted=unlisted)


def _excluded(rel_dir: str, exclude: list[str]) -> bool:
    """True if an exclude pattern names the folder or everything in it."""
    names = (rel_dir, f"{rel_dir}/", f"{rel_dir}/x")
    return any(glob_matches(pattern, name) for pattern in exclude for name in names)


def _signatures(connector: FilesystemConnector, shards: int) -> list[str]:
    seed = f"shards={shards}\n".encode() if shards > 1 else b""
    digests = [hashlib.sha256(seed) for _ in range(shards)]
    root = connector.root.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if (
                name.startswith((".", "~$"))
                or name in SKIPPED_NAMES
                or not matches(rel, connector.include, connector.exclude)
            ):
                continue
            digest = digests[shard_of(rel, shards)]
            try:
                stat = path.stat()
            except OSError:
                digest.update(f"{rel}\0missing\n".encode("utf-8", "surrogateescape"))
                continue
            # A name that is not UTF-8 is still fingerprinted (and quarantined by the listing).
            line = f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n"
            digest.update(line.encode("utf-8", "surrogateescape"))
    return [d.hexdigest() for d in digests]

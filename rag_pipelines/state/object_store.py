"""State in an object store through fsspec (s3://, gs://, az://, file://), cached locally.

The local data dir is a cache: `pull` downloads files the store has newer, `push` uploads what
a stage changed since its pull (so runs owning different prefixes, such as per-shard folders,
never overwrite each other), and `upload_last` makes a folder complete-or-absent by writing its
marker file (a version's manifest) after everything else. Each object is one PUT, so a reader
sees a file's old or new bytes, never a mix.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from rag_pipelines.state.store import Baseline, StateStoreError, scheme_of

# What each filesystem needs: listings always from the server; local folders made on write.
_OPTIONS: dict[str, dict[str, Any]] = {
    "s3": {"use_listings_cache": False},
    "gs": {"use_listings_cache": False},
    "az": {"use_listings_cache": False},
    "file": {"auto_mkdir": True},
}
_PACKAGES = {"s3": "s3fs", "gs": "gcsfs", "az": "adlfs"}
_SLACK_S = 1e-3  # float round-trip of modification times


class ObjectStateStore:
    """A pipeline's state under one fsspec URL; `root` is this machine's cache of it."""

    remote = True

    def __init__(self, url: str, root: Path) -> None:
        import fsspec

        self.url = url.rstrip("/")
        self.root = root
        scheme = scheme_of(url)
        try:
            self.fs, self.base = fsspec.core.url_to_fs(self.url, **_OPTIONS.get(scheme, {}))
        except ImportError as exc:
            package = _PACKAGES.get(scheme, "the fsspec implementation")
            raise StateStoreError(
                f"pipeline.state.url {url!r} needs the {package} package; install it "
                f"(pip install {package}) or use s3:// or file://"
            ) from exc
        self._atomic_put = scheme != "file"  # an object PUT is atomic; a local copy is not
        # Local state of each file as last uploaded or downloaded by this process: a push after
        # `upload_last` (or a second stage) does not send the same bytes again.
        self._in_sync: Baseline = {}

    def _remote(self, key: str) -> str:
        return f"{self.base}/{key}".rstrip("/")

    def _listing(self, prefix: str) -> dict[str, dict[str, Any]]:
        self.fs.invalidate_cache()
        try:
            found = self.fs.find(self._remote(prefix), detail=True)
        except FileNotFoundError:
            return {}
        start = len(self.base) + 1
        out: dict[str, dict[str, Any]] = {}
        for path, info in found.items():
            rel = path[start:]
            if info.get("type") != "directory" and not _hidden(rel):
                out[rel] = info
        return out

    def pull(self, prefix: str) -> Baseline:
        """Download the prefix's files that are missing here or newer in the store."""
        for rel, info in self._listing(prefix).items():
            local = self.root / rel
            stamp = _stamp(info)
            if _needs_download(local, int(info.get("size") or 0), stamp):
                self._get(rel, local, stamp)
        return baseline(self.root, prefix)

    def baseline(self, prefix: str) -> Baseline:
        """The local files under the prefix now."""
        return baseline(self.root, prefix)

    def push(self, prefix: str, before: Baseline) -> None:
        """Upload files changed since `before`; delete in the store what was deleted here."""
        now = baseline(self.root, prefix)
        for rel, state in now.items():
            if before.get(rel) != state and self._in_sync.get(rel) != state:
                self.upload(rel)
        for rel in before.keys() - now.keys():
            self.delete(rel)

    def upload_last(self, prefixes: Iterable[str], last: str) -> None:
        """Upload the prefixes' files, then `last` (the marker that makes them a whole)."""
        for prefix in prefixes:
            for rel in baseline(self.root, prefix):
                if rel != last:
                    self.upload(rel)
        self.upload(last)

    def download(self, key: str) -> bool:
        """Fetch one file if the store has it (and it is not older than the local copy)."""
        self.fs.invalidate_cache()
        try:
            info = self.fs.info(self._remote(key))
        except FileNotFoundError:
            return False
        local, stamp = self.root / key, _stamp(info)
        if _needs_download(local, int(info.get("size") or 0), stamp):
            self._get(key, local, stamp)
        return True

    def upload(self, key: str) -> None:
        """Upload one local file, then stamp the local copy with the object's time."""
        local = self.root / key
        target = self._remote(key)
        if self._atomic_put:
            self.fs.put_file(str(local), target)
        else:
            tmp = f"{target}.{uuid.uuid4().hex}.part"
            self.fs.put_file(str(local), tmp)
            self.fs.mv(tmp, target)
        self.fs.invalidate_cache()
        stamp = _stamp(self.fs.info(target))
        os.utime(local, (stamp, stamp))
        self._remember(key, local)

    def exists(self, key: str) -> bool:
        """Whether the store has the file."""
        self.fs.invalidate_cache()
        return bool(self.fs.exists(self._remote(key)))

    def children(self, prefix: str) -> list[str]:
        """Names directly under the prefix."""
        self.fs.invalidate_cache()
        try:
            entries = self.fs.ls(self._remote(prefix), detail=False)
        except FileNotFoundError:
            return []
        return sorted({str(e).rstrip("/").rsplit("/", 1)[-1] for e in entries})

    def delete(self, key: str) -> None:
        """Delete a file, or a prefix when the key ends in "/"."""
        try:
            if key.endswith("/"):
                self.fs.rm(self._remote(key), recursive=True)
            else:
                self.fs.rm_file(self._remote(key))
        except FileNotFoundError:
            pass
        self.fs.invalidate_cache()
        for rel in [
            r for r in self._in_sync if r == key or (key.endswith("/") and r.startswith(key))
        ]:
            del self._in_sync[rel]

    def _get(self, rel: str, local: Path, stamp: float) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f".{local.name}.{uuid.uuid4().hex}.part")
        try:
            self.fs.get_file(self._remote(rel), str(tmp))
            os.utime(tmp, (stamp, stamp))
            os.replace(tmp, local)
        finally:
            tmp.unlink(missing_ok=True)
        self._remember(rel, local)

    def _remember(self, rel: str, local: Path) -> None:
        stat = local.stat()
        self._in_sync[rel] = (stat.st_size, stat.st_mtime_ns)


def baseline(root: Path, prefix: str) -> Baseline:
    """Every local file under the prefix (dotfiles aside: locks, temporaries) with its state."""
    folder = root / prefix
    out: Baseline = {}
    if not folder.is_dir():
        return out
    for path in folder.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not _hidden(rel):
            stat = path.stat()
            out[rel] = (stat.st_size, stat.st_mtime_ns)
    return out


def _hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


def _needs_download(local: Path, size: int, stamp: float) -> bool:
    try:
        stat = local.stat()
    except FileNotFoundError:
        return True
    mtime = stat.st_mtime_ns / 1e9
    if stamp > mtime + _SLACK_S:
        return True
    # Untouched here since the last sync (same stamp) but other bytes there: rewritten within
    # the store's time resolution (whole seconds on some).
    return abs(stamp - mtime) <= _SLACK_S and stat.st_size != size


def _stamp(info: dict[str, Any]) -> float:
    """The object's modification time in seconds, whatever the filesystem calls it."""
    for name in ("LastModified", "last_modified", "updated", "mtime"):
        value = info.get(name)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    raise StateStoreError(f"the store gave no modification time for {info.get('name')}")

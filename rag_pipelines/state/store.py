"""The StateStore protocol, the local store (today's data dir, no copies) and the registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from rag_pipelines.errors import RagPipelinesError

# A file's local state when a stage started: relative path → (size, mtime_ns).
Baseline = dict[str, tuple[int, int]]


class StateStoreError(RagPipelinesError):
    """The state store cannot be opened or reached (the message says what to install or set)."""


class StateStore(Protocol):
    """Where the files of a pipeline's state live; the local data dir is a cache of it.

    Keys are paths relative to the data dir ("sources/docs/chunks.jsonl"); a prefix ends in "/".
    """

    @property
    def remote(self) -> bool:
        """False when the data dir itself is the state (nothing to copy)."""
        ...

    def pull(self, prefix: str) -> Baseline:
        """Bring the prefix's newer files into the local cache; return the local baseline."""
        ...

    def baseline(self, prefix: str) -> Baseline:
        """The local files under the prefix now, to push what changes after."""
        ...

    def push(self, prefix: str, baseline: Baseline) -> None:
        """Upload what changed under the prefix since `baseline`; delete what was removed."""
        ...

    def upload_last(self, prefixes: Iterable[str], last: str) -> None:
        """Upload every local file under the prefixes, the file `last` after all others."""
        ...

    def download(self, key: str) -> bool:
        """Fetch one file into the local cache if the store has it; False if it does not."""
        ...

    def upload(self, key: str) -> None:
        """Upload one local file."""
        ...

    def exists(self, key: str) -> bool:
        """Whether the store has the file."""
        ...

    def children(self, prefix: str) -> list[str]:
        """Names of the folders and files directly under the prefix."""
        ...

    def delete(self, key: str) -> None:
        """Delete a file, or a whole prefix when `key` ends in "/"."""
        ...


class LocalStateStore:
    """The data dir is the state: every sync is a no-op and nothing is copied."""

    remote = False

    def __init__(self, root: Path) -> None:
        self.root = root

    def pull(self, prefix: str) -> Baseline:
        """Nothing to bring in."""
        return {}

    def baseline(self, prefix: str) -> Baseline:
        """Nothing to compare against."""
        return {}

    def push(self, prefix: str, baseline: Baseline) -> None:
        """Nothing to upload."""

    def upload_last(self, prefixes: Iterable[str], last: str) -> None:
        """Nothing to upload."""

    def download(self, key: str) -> bool:
        """The file is here or nowhere."""
        return (self.root / key).exists()

    def upload(self, key: str) -> None:
        """Nothing to upload."""

    def exists(self, key: str) -> bool:
        """Whether the local file exists."""
        return (self.root / key).exists()

    def children(self, prefix: str) -> list[str]:
        """Names under a local folder."""
        folder = self.root / prefix
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def delete(self, key: str) -> None:
        """Local files are deleted by their owners (the registry, the stages)."""


StoreFactory = Callable[[str, Path], StateStore]


def _object_store(url: str, root: Path) -> StateStore:
    from rag_pipelines.state.object_store import ObjectStateStore

    return ObjectStateStore(url, root)


# URL scheme → store; `None` is the local data dir. gs:// and az:// need gcsfs / adlfs.
STATE_SCHEMES: dict[str, StoreFactory] = {
    "file": _object_store,
    "s3": _object_store,
    "gs": _object_store,
    "az": _object_store,
}


def scheme_of(url: str) -> str:
    """The URL's scheme ("" when it has none)."""
    return url.split("://", 1)[0] if "://" in url else ""


def open_state_store(url: str | None, root: Path) -> StateStore:
    """The store a `pipeline.state.url` names, caching into `root`; local when `url` is None."""
    if url is None:
        return LocalStateStore(root)
    scheme = scheme_of(url)
    if scheme not in STATE_SCHEMES:
        known = ", ".join(f"{s}://" for s in STATE_SCHEMES)
        raise StateStoreError(f"pipeline.state.url {url!r}: unknown scheme; use one of {known}")
    return STATE_SCHEMES[scheme](url, root)

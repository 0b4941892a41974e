"""Follow the published version: load a new one in the background, switch without mixing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag_pipelines.context import PipelineContext
from rag_pipelines.errors import IndexNotFoundError
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.open import open_version

log = logging.getLogger(__name__)


class _Handle:
    """A loaded version and how many requests are using it."""

    def __init__(self, index: VersionIndex) -> None:
        self.index = index
        self.users = 0
        self.retired = False


class LiveIndex:
    """The published version, as one loaded VersionIndex at a time.

    A request takes the current handle for its whole duration, so it never sees two versions.
    When the live pointer (LIVE.json, or the metadata DB's row with `pipeline.state`) names a
    new version, the new one is fetched into the local cache and loaded *before* it replaces
    the current one (requests keep being served meanwhile); the old one is closed once its last
    request ends.
    """

    def __init__(self, ctx: PipelineContext, store: VectorStore | None = None) -> None:
        self.ctx = ctx
        self._store = store
        self._current: _Handle | None = None
        self._pointer_stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def store(self) -> VectorStore:
        """The vector store (opened on first use)."""
        if self._store is None:
            self._store = open_vector_store(self.ctx.config.index.qdrant, self.ctx.workspace)
        return self._store

    @property
    def version(self) -> str | None:
        """The version currently served."""
        handle = self._current
        return handle.index.version if handle else None

    def refresh(self) -> bool:
        """Load the version LIVE.json names if it is not the one served; True if switched."""
        stamp = _stamp(self.ctx.workspace.live_pointer)
        if stamp is not None and stamp == self._pointer_stamp and self._current is not None:
            return False
        with self._load_lock:
            pointer = self.ctx.registry.live()
            if pointer is None:
                return False
            if self._current is not None and self._current.index.version == pointer.version:
                self._pointer_stamp = stamp
                return False
            index = self._load(pointer.version)
            with self._lock:
                old, self._current = self._current, _Handle(index)
                self._pointer_stamp = stamp
                if old is not None:
                    old.retired = True
                    if old.users == 0:
                        self._close(old)
            log.info("serving index version %s", pointer.version)
            return True

    @contextmanager
    def acquire(self) -> Iterator[VersionIndex]:
        """The served version for the duration of one request."""
        if self._current is None:
            self.refresh()
        with self._lock:
            handle = self._current
            if handle is None:
                raise IndexNotFoundError(
                    "no index is published yet; run `rag-pipelines materialize`"
                )
            handle.users += 1
        try:
            yield handle.index
        finally:
            with self._lock:
                handle.users -= 1
                if handle.retired and handle.users == 0:
                    self._close(handle)

    def start(self, interval_s: float = 1.0) -> None:
        """Poll LIVE.json in a background thread."""
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.refresh()
                except Exception:  # a broken new version must not stop serving the old one
                    log.exception("could not load the newly published version")

        self._thread = threading.Thread(target=loop, name="live-index", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and release everything."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            handle, self._current = self._current, None
        if handle is not None:
            self._close(handle)
        if self._store is not None:
            self._store.close()

    def _load(self, version: str) -> VersionIndex:
        return open_version(self.ctx, version, self.store)

    @staticmethod
    def _close(handle: _Handle) -> None:
        try:
            handle.index.close()
        except Exception:
            log.exception("closing version %s", handle.index.version)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_ino

"""Exclusive locks so two runs cannot write one pipeline's state at the same time.

OS file locks (flock) are released when the holding process dies, so a killed run never leaves
a stale lock behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from rag_pipelines.errors import RagPipelinesError


class PipelineBusy(RagPipelinesError):
    """Another run holds the lock; this one refuses instead of corrupting shared state."""


class Exclusive:
    """A held-or-not lock on a file, with a readable refusal."""

    def __init__(self, path: Path, what: str, timeout_s: float = 0.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.what = what
        self.timeout_s = timeout_s
        self._lock = FileLock(str(path))

    def acquire(self) -> None:
        """Take the lock or raise PipelineBusy."""
        try:
            self._lock.acquire(timeout=self.timeout_s)
        except Timeout:
            holder = _holder(self.path)
            raise PipelineBusy(
                f"another run is already writing {self.what}{holder}; wait for it to finish"
            ) from None
        (self.path.with_suffix(".owner")).write_text(str(os.getpid()), encoding="utf-8")

    def release(self) -> None:
        """Give the lock back (no error if not held)."""
        if self._lock.is_locked:
            self._lock.release()


@contextmanager
def exclusive(path: Path, what: str, timeout_s: float = 0.0) -> Iterator[None]:
    """Hold the lock for the duration of a block."""
    lock = Exclusive(path, what, timeout_s)
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _holder(path: Path) -> str:
    owner = path.with_suffix(".owner")
    try:
        return f" (process {owner.read_text(encoding='utf-8').strip()})"
    except OSError:
        return ""

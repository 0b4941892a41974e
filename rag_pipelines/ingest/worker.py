"""Run a parse in a child process that is killed past its time limit and capped in memory.

Workers are spawned (never forked: the parent may hold threads and locks), kept and reused
across files and runs, so the cost of starting one and importing the parsers is paid once per
process, not per file. A worker that timed out or died is discarded and a new one started.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import pickle
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from rag_pipelines.ingest.limits import ParserCrashed, ParseTimeout, TooLarge

T = TypeVar("T")
MAX_IDLE = 2
STARTUP_SECONDS = 300.0  # importing the parsers, before the first file's clock starts
WarmUp = Callable[[], None] | None


class RemoteError(Exception):
    """An exception from the worker that could not be sent back as itself."""

    def __init__(self, message: str, kind: str = "RemoteError") -> None:
        super().__init__(message)
        self.kind = kind


def _serve(conn: Connection, memory_bytes: int, warm_up: WarmUp) -> None:
    """The worker's loop: call what is asked, send back (ok, result or exception)."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if warm_up is not None:
        warm_up()
    conn.send("ready")
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[bool, Any] = (True, fn(*args))
        except MemoryError:
            reply = (False, TooLarge(f"parsing needs more than {memory_bytes >> 20} MB memory"))
        except BaseException as exc:  # every parser error goes back to the caller
            reply = (False, exc)
        try:
            conn.send(reply)
        except Exception:  # an exception or result that does not pickle
            value = reply[1]
            kind = type(value).__name__
            message = f"{kind}: {value}" if not reply[0] else "unpicklable result"
            conn.send((False, RemoteError(message, kind)))


class ParseWorker:
    """One child process and its pipe."""

    def __init__(self, memory_bytes: int, warm_up: WarmUp = None) -> None:
        self.memory_bytes = memory_bytes
        self.warm_up = warm_up
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process: BaseProcess = ctx.Process(
            target=_serve,
            args=(child, memory_bytes, warm_up),
            daemon=True,
            name="rag-parse-worker",
        )
        self.process.start()
        child.close()
        try:
            ready = self.conn.poll(STARTUP_SECONDS) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.close()
            raise ParserCrashed("the parser process did not start (see its stderr)")

    def call(self, fn: Callable[..., T], args: tuple[Any, ...], seconds: float) -> T:
        """fn(*args) in the worker; ParseTimeout past `seconds` (the worker is then killed)."""
        try:
            self.conn.send((fn, args))
        except (OSError, pickle.PicklingError) as exc:
            self.close()
            raise ParserCrashed(f"could not hand the file to the parser process: {exc}") from None
        if not self.conn.poll(seconds):
            self.close()
            raise ParseTimeout(
                f"parsing took longer than max_parse_seconds={seconds:g}; the parser was stopped"
            )
        try:
            ok, value = self.conn.recv()
        except (EOFError, OSError):
            self.process.join(timeout=5)
            code = self.process.exitcode
            self.close()
            raise ParserCrashed(f"the parser process died (exit code {code})") from None
        if ok:
            return value
        raise value

    @property
    def alive(self) -> bool:
        """True if the process still runs."""
        return self.process.is_alive()

    def close(self) -> None:
        """Stop the process (kill: it may be stuck in native code)."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class WorkerPool:
    """Idle workers per memory limit, handed out one per call (threads get their own)."""

    def __init__(self) -> None:
        self._idle: dict[tuple[int, WarmUp], list[ParseWorker]] = {}
        self._lock = threading.Lock()

    def run(
        self,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        seconds: float,
        memory: int,
        warm_up: WarmUp = None,
    ) -> T:
        """fn(*args) in an idle worker (started if none), bounded in time and memory."""
        with self._lock:
            idle = self._idle.setdefault((memory, warm_up), [])
            worker = idle.pop() if idle else None
        if worker is None or not worker.alive:
            worker = ParseWorker(memory, warm_up)
        try:
            return worker.call(fn, args, seconds)
        finally:
            self._give_back(worker)

    def _give_back(self, worker: ParseWorker) -> None:
        if worker.alive and not worker.conn.closed:
            with self._lock:
                idle = self._idle.setdefault((worker.memory_bytes, worker.warm_up), [])
                if len(idle) < MAX_IDLE:
                    idle.append(worker)
                    return
        worker.close()

    def close(self) -> None:
        """Stop every idle worker."""
        with self._lock:
            workers = [w for idle in self._idle.values() for w in idle]
            self._idle.clear()
        for worker in workers:
            worker.close()


POOL = WorkerPool()
atexit.register(POOL.close)

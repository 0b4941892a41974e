"""Is the process that executes a run still there? Told from the host, pid and start time it
recorded on the run (Dagster-free: the code location reads and writes the run tags).

A pid alone is not enough: once a process is gone its pid may be given to another one, so the
process's start time is recorded too and a pid that started at another time counts as gone.
Only a process on this host can be looked at; one elsewhere is neither alive nor gone here.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from enum import Enum

import psutil

from rag_pipelines.asset_graph import WORKER_HOST_TAG, WORKER_PID_TAG, WORKER_STARTED_TAG

# psutil's start times are read from the same clock each time; allow for rounding only.
_START_TOLERANCE_S = 1.0


class WorkerState(Enum):
    """What this host can say about a run's worker process."""

    ALIVE = "alive"
    GONE = "gone"
    ELSEWHERE = "elsewhere"  # another host's process: not ours to judge


@dataclass(frozen=True)
class RunWorker:
    """The process executing a run: where it runs, its pid and when it started."""

    host: str
    pid: int
    started: float

    def tags(self) -> dict[str, str]:
        """As run tags."""
        return {
            WORKER_HOST_TAG: self.host,
            WORKER_PID_TAG: str(self.pid),
            WORKER_STARTED_TAG: f"{self.started:.3f}",
        }

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> RunWorker | None:
        """The worker a run's tags name; None if they name none (or not readably)."""
        try:
            return cls(
                tags[WORKER_HOST_TAG], int(tags[WORKER_PID_TAG]), float(tags[WORKER_STARTED_TAG])
            )
        except (KeyError, ValueError):
            return None

    def describe(self) -> str:
        """`pid 123 on host-a`."""
        return f"pid {self.pid} on {self.host}"


def this_host() -> str:
    """This machine's name, as workers record it."""
    return socket.gethostname()


def current_worker() -> RunWorker:
    """This process, as a run's worker."""
    pid = os.getpid()
    return RunWorker(this_host(), pid, psutil.Process(pid).create_time())


def worker_state(worker: RunWorker) -> WorkerState:
    """Whether the worker process is still running (on this host; elsewhere: unknown)."""
    if worker.host != this_host():
        return WorkerState.ELSEWHERE
    try:
        process = psutil.Process(worker.pid)
        started = process.create_time()
        zombie = process.status() == psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return WorkerState.GONE
    except psutil.AccessDenied:
        return WorkerState.ALIVE  # it exists; another user's process is not ours to fail
    if zombie or abs(started - worker.started) > _START_TOLERANCE_S:
        return WorkerState.GONE
    return WorkerState.ALIVE

"""Per-batch progress of a long stage (parsing, embedding): done/total, rate and ETA.

The library's stages call a plain `(done, total)` callback; ProgressMeter turns those calls into
throttled ProgressUpdates for a sink (Dagster's run log, a console). One update is one log line
that `ProgressUpdate.parse` reads back, so a process watching the run's log can show it too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

_LINE = re.compile(
    r"progress (?P<stage>[\w-]+): (?P<done>\d+)/(?P<total>\d+)(?: \(\d+%\))?"
    r"(?: · (?P<rate>[\d.]+)/s)?(?: · ETA (?P<eta>\d+) s)?"
)


@dataclass(frozen=True)
class ProgressUpdate:
    """Where a stage stands."""

    stage: str
    done: int
    total: int
    elapsed_s: float
    rate: float | None  # items per second so far; None before anything is done
    eta_s: float | None  # seconds left at that rate; None when unknown

    def line(self) -> str:
        """'progress embedding: 512/3000 (17%) · 95.3/s · ETA 26 s'."""
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        rate = f" · {self.rate:.1f}/s" if self.rate is not None else ""
        eta = f" · ETA {round(self.eta_s)} s" if self.eta_s is not None else ""
        return f"progress {self.stage}: {self.done}/{self.total}{share}{rate}{eta}"

    @classmethod
    def parse(cls, text: str) -> ProgressUpdate | None:
        """The update in a log line written by `line()`, or None."""
        match = _LINE.search(text)
        if match is None:
            return None
        rate = float(match["rate"]) if match["rate"] else None
        done = int(match["done"])
        elapsed = done / rate if rate else 0.0
        eta = float(match["eta"]) if match["eta"] else None
        return cls(match["stage"], done, int(match["total"]), elapsed, rate, eta)


class ProgressMeter:
    """A `(done, total)` callback reporting to `sink` at most every `every_s` s, and at the end."""

    def __init__(
        self,
        stage: str,
        sink: Callable[[ProgressUpdate], None],
        every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stage = stage
        self.sink = sink
        self.every_s = every_s
        self.clock = clock
        self.started = clock()
        self._last: float | None = None

    def __call__(self, done: int, total: int) -> None:
        """Record that `done` of `total` items are finished."""
        now = self.clock()
        finished = done >= total
        if not finished and self._last is not None and now - self._last < self.every_s:
            return
        self._last = now
        self.sink(measure(self.stage, done, total, now - self.started))


def measure(stage: str, done: int, total: int, elapsed_s: float) -> ProgressUpdate:
    """Rate and ETA from what is done after `elapsed_s`."""
    rate = done / elapsed_s if done and elapsed_s > 0 else None
    eta = (total - done) / rate if rate else (0.0 if done >= total else None)
    return ProgressUpdate(stage, done, total, round(elapsed_s, 3), rate, eta)

"""Named fault-injection points for crash-safety tests; each is a no-op in normal runs.

`crash_point(name)` does nothing unless the environment variable RAG_FAULT_INJECT equals
`name`. Then the process SIGKILLs itself on the spot (no cleanup, no `finally`, no atexit: what
the OOM killer or a power cut does), or, with RAG_FAULT_PAUSE=<marker file>, writes its pid to
the marker and waits until the file is deleted, so a test can look at the state mid-run and
then kill it from outside or let it go on. The variables are read when a point is reached,
never at import.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

FAULT_ENV = "RAG_FAULT_INJECT"
PAUSE_ENV = "RAG_FAULT_PAUSE"

# Where a run can be stopped, in the order a materialization reaches them.
POINTS = (
    "documents_written",  # a source's documents.jsonl replaced; its ledger not yet
    "embeddings_cached",  # a shard's chunks embedded into the cache; its embedding state not yet
    "snapshot_written",  # a new version folder with its snapshot; no index built
    "vector_index_partial",  # a dense collection written but not finalized
    "manifest_written",  # the version is complete; no check has run, nothing published
    "publish_before_switch",  # checks passed, the live version read; the switch not yet made
    "publish_after_switch",  # LIVE.json names the new version; old versions not collected
    "gc_partial",  # an old version's collections dropped; its folder not yet removed
)


def crash_point(name: str) -> None:
    """Kill or pause this process here if RAG_FAULT_INJECT names this point."""
    if name not in POINTS:
        raise ValueError(f"unknown fault point {name!r}; known: {', '.join(POINTS)}")
    if os.environ.get(FAULT_ENV) != name:
        return
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        _pause(Path(marker))
    else:
        os.kill(os.getpid(), signal.SIGKILL)


def _pause(marker: Path) -> None:
    marker.write_text(str(os.getpid()), encoding="utf-8")
    while marker.exists():
        time.sleep(0.05)

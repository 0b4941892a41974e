"""`rag-pipelines dev`: the Dagster UI and daemon of one pipeline, stopped whole.

`dagster dev` runs on the DAGSTER_HOME the CLI derives for the pipeline (`runner.dagster_env`:
`$DAGSTER_HOME`, else `<data_dir>/dagster`), so runs from the UI, the sensors and
`rag-pipelines materialize` share one instance. It is started in its own process group under a
supervisor that is the subreaper of everything below it: a code server left behind by "Reload
definitions", or a run worker whose parent died, is re-parented to the supervisor, and
SIGTERM, SIGINT or SIGHUP stops the whole tree.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType

import psutil

from rag_pipelines.runner import dagster_env
from rag_pipelines.workspace import Workspace

# Linux prctl option: orphaned descendants are re-parented to this process instead of init.
_PR_SET_CHILD_SUBREAPER = 36
# `dagster dev` gives its webserver and daemon up to 60 s each; past this the tree is killed.
GRACE_S = 20.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def dev_command(host: str, port: int) -> list[str]:
    """`dagster dev` on the code location `assets` (the one workspace.yaml loads)."""
    return [sys.executable, "-m", "dagster", "dev", "-m", "assets", "-h", host, "-p", str(port)]


def dev_env(workspace: Workspace, sources_path: Path) -> dict[str, str]:
    """The environment of the launcher's runs: this pipeline's DAGSTER_HOME and sources file."""
    return dagster_env(workspace, sources_path)


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux); False where the kernel has no such option."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def run_supervised(command: list[str], env: dict[str, str], grace_s: float = GRACE_S) -> int:
    """Run `command` in its own process group until it exits or a stop signal arrives; then
    stop it (SIGINT first: `dagster dev`'s own shutdown) and every process left below us.

    Returns the command's exit code, or 0 when a stop signal ended it.
    """
    become_subreaper()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        proc = subprocess.Popen(command, env=env, start_new_session=True)
        while proc.poll() is None and not stop.wait(0.5):
            pass
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace_s)
        stop_tree(proc.pid, grace_s)
        code = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stop.is_set() else code


def stop_tree(group: int, grace_s: float = GRACE_S) -> None:
    """SIGTERM, then SIGKILL after `grace_s`, every descendant of this process and every
    process of the process group `group`; reaps those that are our children."""
    left = _below_us(group)
    for proc in left:
        _signal(proc, signal.SIGTERM)
    _, alive = psutil.wait_procs(left, timeout=grace_s)
    for proc in alive + _below_us(group):
        _signal(proc, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)
    # Children that exited meanwhile (adopted orphans) are reaped here.
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.TimeoutExpired, psutil.NoSuchProcess):
            child.wait(timeout=1)


def _below_us(group: int) -> list[psutil.Process]:
    procs = {p.pid: p for p in psutil.Process().children(recursive=True)}
    for proc in psutil.process_iter():
        try:
            if proc.pid != os.getpid() and os.getpgid(proc.pid) == group:
                procs.setdefault(proc.pid, proc)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return list(procs.values())


def _signal(proc: psutil.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(psutil.Error):
        proc.send_signal(sig)

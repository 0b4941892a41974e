"""`dagster dev` on a copy of the example pipeline: own DAGSTER_HOME and port on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from rag_pipelines.runner import DEV_INSTANCE_YAML
from tests.dagster.daemon import fast_queue

REPO = Path(__file__).resolve().parents[2]
# Leads the PYTHONPATH of `dagster dev`: its sitecustomize shortens the backfill daemon's 30 s loop.
FAST_DAEMON = Path(__file__).resolve().parent / "fast_daemon"
# The instance `make dev` writes (its run queue: per-source and index-pool limits, so the
# sensors' own ingest runs wait for the test's runs of the same source instead of contending for
# its lock), its queue looked at every second.
INSTANCE_YAML = fast_queue(DEV_INSTANCE_YAML)


@dataclass(frozen=True)
class DagsterDev:
    """A running `dagster dev`."""

    url: str
    home: Path
    sources: Path
    log: Path


def example_sources(tmp: Path) -> Path:
    """The repository's sources.yaml with its state under tmp and absolute corpus roots."""
    data = yaml.safe_load((REPO / "sources.yaml").read_text(encoding="utf-8"))
    data["pipeline"]["data_dir"] = str(tmp / "data")
    for source in data["sources"]:
        source["connector"]["root"] = str((REPO / source["connector"]["root"]).resolve())
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def dagster_dev(tmp: Path, startup_s: float = 180.0) -> Iterator[DagsterDev]:
    """Start `dagster dev` and stop its whole process group when the block ends."""
    home = tmp / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(INSTANCE_YAML, encoding="utf-8")
    sources = example_sources(tmp)
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "RAG_SOURCES": str(sources),
        "PYTHONPATH": os.pathsep.join([str(FAST_DAEMON), str(REPO)]),
        "DO_NOT_TRACK": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    log = tmp / "dagster-dev.log"
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, proc, startup_s, log)
        yield DagsterDev(url, home, sources, log)
    finally:
        _stop(proc)


def _wait_up(url: str, proc: subprocess.Popen[bytes], startup_s: float, log: Path) -> None:
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dagster dev exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"dagster dev did not answer within {startup_s} s; see {log}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass

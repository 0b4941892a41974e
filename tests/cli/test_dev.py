"""`rag-pipelines dev`: one Dagster UI per pipeline on the CLI's DAGSTER_HOME, stopped whole."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from rag_pipelines.context import PipelineContext
from rag_pipelines.runner import dagster_env
from tests.dataops.corpus import write_config

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCATIONS = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
RELOAD = (
    "mutation($name: String!) { reloadRepositoryLocation(repositoryLocationName: $name)"
    " { __typename } }"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _graphql(url: str, query: str, **variables: str) -> dict:
    # A reload answers once the new code server has loaded the definitions: on 2 busy cores
    # that took more than 30 s (the suite's other tests import the same libraries meanwhile).
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, timeout=240
    )
    response.raise_for_status()
    return response.json()["data"]


def _loaded_locations(url: str) -> list[str]:
    entries = _graphql(url, LOCATIONS)["workspaceOrError"]["locationEntries"]
    return [e["name"] for e in entries if e["loadStatus"] == "LOADED"]


def _wait(what: str, ready, proc: subprocess.Popen[str], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"rag-pipelines dev exited; log:\n{log.read_text()[-3000:]}"
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{what} not within {timeout_s} s; log:\n{log.read_text()[-3000:]}")


def _home_of(proc: psutil.Process) -> str | None:
    try:
        return proc.environ().get("DAGSTER_HOME")
    except psutil.Error:
        return None


def _processes_on(home: str) -> list[psutil.Process]:
    return [p for p in psutil.process_iter() if p.pid != os.getpid() and _home_of(p) == home]


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_dev_uses_the_cli_dagster_home_and_stops_every_process(
    tmp_path: Path, stop: signal.Signals
) -> None:
    """`make dev` pinned DAGSTER_HOME to .rag/dagster whatever SOURCES said, had a fixed port,
    and a SIGTERM left the webserver, daemon and code servers (one orphaned per reload) running."""
    root = tmp_path / "docs"
    root.mkdir()
    (root / "note.md").write_text("# Note\n\nA short note about teal lamps.\n", encoding="utf-8")
    config = write_config(tmp_path, {"docs": root}, file_name="other.yaml")
    sources = tmp_path / "other.yaml"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["PYTHONPATH"] = str(REPO)
    expected = dagster_env(PipelineContext(config).workspace, sources)["DAGSTER_HOME"]
    assert Path(expected) == (tmp_path / "data" / "dagster").resolve()

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "dev.log"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [str(BIN / "rag-pipelines"), "-c", str(sources), "dev", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        _wait("the webserver", lambda: bool(_loaded_locations(url)), proc, log, 300)
        (location,) = _loaded_locations(url)
        # "Reload definitions": the code server it replaces must not outlive the stop either.
        _graphql(url, RELOAD, name=location)
        _wait("the reloaded code location", lambda: _loaded_locations(url), proc, log, 300)

        below = psutil.Process(proc.pid).children(recursive=True)
        homes = {_home_of(p) for p in below}
        assert homes == {expected}, homes
        assert (Path(expected) / "dagster.yaml").is_file()

        proc.send_signal(stop)
        assert proc.wait(timeout=120) == 0, log.read_text()[-3000:]
        left = [p for p in below if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not left, [p.cmdline() for p in left]
        assert not _processes_on(expected)
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in _processes_on(expected):
            p.kill()

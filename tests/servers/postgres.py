"""A throwaway PostgreSQL cluster in a temp dir on a free loopback port (as pytest-postgresql)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PostgresServer:
    """A running cluster: connection facts and a SQLAlchemy/psycopg2 URL per database."""

    host: str
    port: int
    user: str
    bin_dir: Path

    def url(self, database: str = "postgres") -> str:
        """A `postgresql+psycopg2://` URL (plain `postgresql://` picks psycopg 3, see README)."""
        return f"postgresql+psycopg2://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database `name` and return its URL."""
        self._psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _psql(self, sql: str) -> None:
        subprocess.run(
            [
                *(str(self.bin_dir / "psql"), "-h", self.host, "-p", str(self.port)),
                *("-U", self.user, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql),
            ],
            check=True,
            capture_output=True,
        )


def postgres_bin_dir() -> Path | None:
    """Where Debian's postgresql package keeps initdb/pg_ctl (not on PATH), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_major, reverse=True)
    if found:
        return Path(found[0]).parent
    on_path = shutil.which("pg_ctl")
    if on_path and (Path(on_path).parent / "initdb").exists():
        return Path(on_path).parent
    return None


def _major(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_owner(cmd: list[str], owner: str | None) -> list[str]:
    """Run as `owner` when we are root (postgres refuses to run as root)."""
    return ["runuser", "-u", owner, "--", *cmd] if owner else cmd


@contextmanager
def running_postgres(startup_s: float = 60.0) -> Iterator[PostgresServer]:
    """Start PostgreSQL on 127.0.0.1:<free port> for the block; trust auth, loopback only."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise RuntimeError(
            "PostgreSQL server binaries not found: install Debian's 'postgresql' package "
            "(.ci/run does this with apt-get)"
        )
    owner = "postgres" if os.geteuid() == 0 else None
    user = owner or pwd.getpwuid(os.geteuid()).pw_name
    root = Path(tempfile.mkdtemp(prefix="rag-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if owner:
        shutil.chown(root, owner)
        shutil.chown(sockets, owner)
    subprocess.run(
        _as_owner(
            [
                *(str(bin_dir / "initdb"), "-D", str(data), "-U", user, "-A", "trust"),
                *("-E", "UTF8", "--no-instructions", "--no-sync"),
            ],
            owner,
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    options = (
        f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=200"
    )
    log = root / "postgres.log"
    subprocess.run(
        _as_owner(
            [
                *(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log)),
                *("-w", "-t", str(int(startup_s)), "start"),
            ],
            owner,
        ),
        check=True,
        capture_output=True,
    )
    server = PostgresServer(host="127.0.0.1", port=port, user=user, bin_dir=bin_dir)
    try:
        _wait_ready(server, startup_s)
        yield server
    finally:
        subprocess.run(
            _as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], owner),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(server: PostgresServer, startup_s: float) -> None:
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        ready = subprocess.run(
            [str(server.bin_dir / "pg_isready"), "-h", server.host, "-p", str(server.port)],
            capture_output=True,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.1)
    raise TimeoutError(f"PostgreSQL on port {server.port} not ready within {startup_s} s")

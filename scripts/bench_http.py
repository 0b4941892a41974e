"""The service's HTTP overhead over the engine: one version served by uvicorn on 127.0.0.1.

Used by bench_compare.py (which builds the version); on its own:
python scripts/bench_http.py --config .rag-bench/size-100000.yaml --version V [--queries 100]

The version is published (LIVE.json) in the bench workspace, `rag-pipelines serve` is started
as a subprocess, and each query is POSTed to /v1/search, one at a time, over one keep-alive
connection. Per request: the client's round trip and the engine's `took_ms` from the same
response, so `overhead` (round trip - took_ms) is the service's own cost: HTTP parsing,
validation, auth guard, JSON encoding and the loopback hop. Each mode gets its own queries
(the server's query-vector cache would otherwise skip the embedding of repeated ones).
Each mode is then timed again from a bare-socket client (`raw_socket`: request bytes built
before the clock starts), which leaves out the httpx client's own cost.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from bench_latency import percentiles

REPO = Path(__file__).resolve().parents[1]
MODES = ("dense", "bm25", "hybrid")
WARMUP = 20  # queries per mode before timing, from the end of the file (never timed)


def main() -> None:
    """Publish, serve, time, print JSON."""
    from rag_pipelines.beir import read_queries

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "scifact")
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    queries = list(read_queries(args.data / "queries.jsonl").values())
    print(json.dumps(bench_http(args.config, args.version, queries, args.queries), indent=2))


def bench_http(config: Path, version: str, queries: list[str], per_mode: int) -> dict[str, object]:
    """Per mode: round trip, engine took_ms and their difference, p50/p95/p99 in ms."""
    from rag_pipelines.config import load_sources_file
    from rag_pipelines.context import PipelineContext

    PipelineContext(load_sources_file(config)).registry.point_live(version)
    port = _free_port()
    cli = [sys.executable, "-m", "rag_pipelines.cli", "-c", str(config), "serve"]
    server = subprocess.Popen(
        [*cli, "--port", str(port)],
        env={**os.environ, "DO_NOT_TRACK": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait_ready(client, server)
            out: dict[str, object] = {}
            for mode in MODES:  # fault the version's pages in before timing any mode
                for q in queries[-WARMUP:]:
                    client.post("/v1/search", json={"query": q, "mode": mode}).raise_for_status()
            for n, mode in enumerate(MODES):
                mine = queries[(n + 1) * per_mode : (n + 2) * per_mode] or queries[:per_mode]
                out[mode] = _time_mode(client, mode, mine)
        for n, mode in enumerate(MODES):  # the same, from a client that costs ~nothing
            start = (n + 1 + len(MODES)) * per_mode
            mine = queries[start : start + per_mode] or queries[:per_mode]
            out[mode]["raw_socket"] = _time_mode_raw(port, mode, mine)  # type: ignore[index]
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)


def _time_mode(client: httpx.Client, mode: str, queries: list[str]) -> dict[str, object]:
    """Round trips and took_ms of one mode's queries (after one warm-up request)."""
    client.post("/v1/search", json={"query": queries[0], "mode": mode}).raise_for_status()
    trips, took = [], []
    for q in queries:
        t = time.perf_counter()
        response = client.post("/v1/search", json={"query": q, "mode": mode, "top_k": 10})
        trips.append(time.perf_counter() - t)
        response.raise_for_status()
        took.append(response.json()["took_ms"] / 1000)
    return {
        "round_trip": percentiles(trips),
        "engine_took": percentiles(took),
        "overhead": percentiles([a - b for a, b in zip(trips, took, strict=True)]),
    }


def _time_mode_raw(port: int, mode: str, queries: list[str]) -> dict[str, object]:
    """As `_time_mode`, from a bare socket: each request's bytes are built before its clock
    starts, and the clock stops once Content-Length bytes of body are in (httpx's own
    request building and response handling, ~0.3-0.5 ms here, is not the service's cost)."""
    requests = []
    for q in [queries[0], *queries]:
        body = json.dumps({"query": q, "mode": mode, "top_k": 10}).encode()
        head = (
            f"POST /v1/search HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    trips, took = [], []
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for n, request in enumerate(requests):
            t = time.perf_counter()
            conn.sendall(request)
            status, body = _read_response(conn)
            elapsed = time.perf_counter() - t
            if status != 200:
                raise RuntimeError(f"/v1/search answered {status}: {body[:200]!r}")
            if n:  # the first request warms the connection up
                trips.append(elapsed)
                took.append(json.loads(body)["took_ms"] / 1000)
    return {
        "round_trip": percentiles(trips),
        "engine_took": percentiles(took),
        "overhead": percentiles([a - b for a, b in zip(trips, took, strict=True)]),
    }


def _read_response(conn: socket.socket) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response with a Content-Length (what uvicorn sends)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        body += chunk
    return int(lines[0].split()[1]), body


def _wait_ready(client: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    """Until /readyz answers 200 (the model and the version load first)."""
    deadline = time.time() + 300
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the server was not ready within 300 s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()

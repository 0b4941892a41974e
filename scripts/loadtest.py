"""Load test: concurrent clients against `rag-pipelines serve` while a new version is published.

Usage: python scripts/loadtest.py [--clients 32] [--seconds 60] [--publish-at 15] [--out FILE]

Builds the example corpus into a temp data dir, starts the real service on 127.0.0.1, runs
`--clients` threads that send mixed-mode searches for `--seconds`, and part-way through edits
a document and runs `rag-pipelines materialize` (a new version is built, checked, published).
Reports failed requests, responses whose hits mix versions, versions seen, latency
percentiles and throughput. Exit code 1 if any request failed or any response mixed versions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
QUERIES = [
    "How many days can I work remotely?",
    "hotel price cap per night",
    "who do I report a phishing email to",
    "parental leave weeks",
    "learning budget per year",
    "laptop replacement cycle",
    "per diem in Berlin",
    "core hours",
]
MODES = ["dense", "bm25", "graph", "hybrid"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    """Build, serve, load, publish mid-way, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--publish-at", type=float, default=15)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "loadtest.json")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rag-load-"))
    corpus = tmp / "examples"
    shutil.copytree(REPO / "examples", corpus)
    config = tmp / "sources.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "pipeline": {"name": "load", "data_dir": str(tmp / "data")},
                "sources": [
                    {
                        "name": "policies",
                        "connector": {"type": "filesystem", "root": str(corpus / "policies")},
                    },
                    {
                        "name": "handbook",
                        "connector": {"type": "filesystem", "root": str(corpus / "handbook")},
                    },
                ],
            }
        )
    )
    cli = [sys.executable, "-m", "rag_pipelines.cli", "-c", str(config)]
    env = {**os.environ, "DO_NOT_TRACK": "1", "DAGSTER_HOME": str(tmp / "dagster")}
    subprocess.run([*cli, "materialize"], check=True, env=env, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        result = run_load(args, base, cli, env, corpus)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["failed"] == 0 and result["mixed_version_responses"] == 0 else 1)


def run_load(
    args: argparse.Namespace, base: str, cli: list[str], env: dict[str, str], corpus: Path
) -> dict:  # type: ignore[type-arg]
    """The load phase with a publish in the middle."""
    latencies: list[float] = []
    failures: list[str] = []
    mixed = 0
    versions: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.time() + args.seconds

    def client(seed: int) -> None:
        nonlocal mixed
        rng = random.Random(seed)
        with httpx.Client(base_url=base, timeout=60) as http:
            while time.time() < stop:
                body = {"query": rng.choice(QUERIES), "mode": rng.choice(MODES), "top_k": 5}
                started = time.perf_counter()
                try:
                    response = http.post("/v1/search", json=body)
                except httpx.HTTPError as exc:
                    with lock:
                        failures.append(type(exc).__name__)
                    continue
                elapsed = time.perf_counter() - started
                with lock:
                    if response.status_code != 200:
                        failures.append(str(response.status_code))
                        continue
                    data = response.json()
                    latencies.append(elapsed)
                    versions[data["index_version"]] = versions.get(data["index_version"], 0) + 1
                    if any(
                        h["provenance"]["index_version"] != data["index_version"]
                        for h in data["hits"]
                    ):
                        mixed += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    started = time.time()
    for t in threads:
        t.start()
    time.sleep(args.publish_at)
    policy = corpus / "policies" / "remote-work-policy.md"
    policy.write_text(
        policy.read_text() + "\n\n## Load test addendum\n\nA sentence added during the load test.\n"
    )
    publish_started = time.time() - started
    subprocess.run(
        [*cli, "materialize", "--source", "policies"], check=True, env=env, capture_output=True
    )
    publish_done = time.time() - started
    for t in threads:
        t.join()
    wall = time.time() - started
    ms = np.asarray(latencies) * 1000
    return {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "clients": args.clients,
        "seconds": round(wall, 1),
        "requests": len(latencies) + len(failures),
        "failed": len(failures),
        "failure_kinds": sorted(set(failures)),
        "mixed_version_responses": mixed,
        "versions_seen": versions,
        "publish_started_s": round(publish_started, 1),
        "publish_finished_s": round(publish_done, 1),
        "throughput_rps": round(len(latencies) / wall, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
    }


if __name__ == "__main__":
    main()

"""Issue 13: a cluster sharing state through S3 (moto) and PostgreSQL, as separate processes.

One source in two shards: worker A ingests shard 0, worker B shard 1, at once, each in its own
scratch dir; both scratch dirs are deleted; builder C builds, checks and publishes from the
store; its scratch dir is deleted; the service D (a fourth scratch dir) serves the published
version over HTTP. No process can have read another's disk: it was gone before it started.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml

from rag_pipelines.shards import shard_of

REPO = Path(__file__).resolve().parents[2]
SOURCE = "products"
# blake2b shards (rag_pipelines.shards.shard_of, pinned in tests/test_shards.py): 2 files each.
CORPUS = {
    "kettle.md": "# Zephyr Kettle\n\nThe Zephyr Kettle boils a litre of water in forty "
    "seconds. Its service code word is quillfeather.\n",  # shard 1
    "lamp.md": "# Orbax Lamp\n\nThe Orbax desk lamp glows teal and runs a week on solar "
    "cells. Its service code word is marmaladeon.\n",  # shard 0
    "boots.md": "# Tundra Boots\n\nTundra Boots keep feet warm down to minus fifty "
    "degrees. Their service code word is brisklantern.\n",  # shard 1
    "drone.md": "# Velvet Drone\n\nThe Velvet Drone delivers a cup of tea across the lawn. "
    "Its service code word is sparrowgleam.\n",  # shard 0
}
RUN_TIMEOUT_S = 300


def _config(tmp: Path, name: str, state: dict[str, str]) -> Path:
    """sources.yaml of one process: the same pipeline and state, its own scratch data dir."""
    data = {
        "pipeline": {"name": "shared", "data_dir": str(tmp / f"scratch-{name}"), "state": state},
        "embedding": {"device": "cpu"},
        "sources": [
            {
                "name": SOURCE,
                "shards": 2,
                "connector": {"type": "filesystem", "root": str(tmp / "corpus")},
            }
        ],
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _env(s3_server) -> dict[str, str]:
    return {
        **os.environ,
        **s3_server.env(),
        "PYTHONPATH": str(REPO),
        "DO_NOT_TRACK": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }


def _stage(config: Path, target: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A materialization in its own process (tests.reliability.driver: a source, or corpus)."""
    cmd = [sys.executable, "-m", "tests.reliability.driver", str(config), target]
    return subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _finish(proc: subprocess.Popen[bytes], what: str) -> None:
    try:
        out, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        proc.kill()  # never leave a stage running after the test
        out, _ = proc.communicate()
        raise AssertionError(
            f"{what} ran past {RUN_TIMEOUT_S} s:\n{out.decode(errors='replace')[-4000:]}"
        ) from exc
    assert proc.returncode == 0, f"{what} failed:\n{out.decode(errors='replace')[-4000:]}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _search(base: str, query: str) -> dict[str, Any]:
    body = {"query": query, "top_k": 10, "mode": "hybrid"}
    response = httpx.post(f"{base}/v1/search", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.slow
def test_workers_builder_and_service_share_state_only_through_s3_and_postgres(
    tmp_path: Path, s3_server, postgres_server
) -> None:
    assert {shard_of(name, 2) for name in CORPUS} == {0, 1}
    for name, text in CORPUS.items():
        path = tmp_path / "corpus" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    s3_server.client().create_bucket(Bucket="cluster")
    db = postgres_server.create_database("cluster_state")
    state = {"url": "s3://cluster/rag", "metadata_db": db}
    env = _env(s3_server)
    configs = {name: _config(tmp_path, name, state) for name in ("a", "b", "c", "d")}
    scratch = {name: tmp_path / f"scratch-{name}" for name in configs}

    started = time.monotonic()
    workers = [_stage(configs["a"], f"{SOURCE}~0", env), _stage(configs["b"], f"{SOURCE}~1", env)]
    _finish(workers[0], "worker A (shard 0)")
    _finish(workers[1], "worker B (shard 1)")
    keys = _keys(s3_server, "cluster")
    assert f"rag/shared/sources/{SOURCE}/shards/0/chunks.jsonl" in keys
    assert f"rag/shared/sources/{SOURCE}/shards/1/chunks.jsonl" in keys
    shutil.rmtree(scratch["a"])
    shutil.rmtree(scratch["b"])
    print(f"workers A and B: {time.monotonic() - started:.1f} s")

    _finish(_stage(configs["c"], "corpus", env), "builder C (build, check, publish)")
    assert not (scratch["c"] / "index" / "LIVE.json").exists()  # the pointer is a row
    shutil.rmtree(scratch["c"])
    print(f"builder C: {time.monotonic() - started:.1f} s")
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        live = conn.execute(sa.text("select version from rag_live where pipeline='shared'"))
        version = live.scalar_one()
    engine.dispose()
    keys = _keys(s3_server, "cluster")
    assert f"rag/shared/index/builds/{version}/manifest.json" in keys
    assert any(k.startswith(f"rag/shared/index/qdrant-edge/rag_shared_{version}/") for k in keys)

    port = _free_port()
    cli = [sys.executable, "-c", "from rag_pipelines.cli import main; main()"]
    service = subprocess.Popen(
        [*cli, "--config", str(configs["d"]), "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, service)
        kettle = _search(base, "Which kettle boils water in forty seconds?")
        lamp = _search(base, "a desk lamp that glows teal")
        print(f"service D answered: {time.monotonic() - started:.1f} s")
    finally:
        service.terminate()
        try:
            log, _ = service.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            service.kill()
            log, _ = service.communicate()
    assert kettle["index_version"] == lamp["index_version"] == version
    top = {r["provenance"]["document_id"] for r in (kettle["hits"][0], lamp["hits"][0])}
    assert top == {"kettle.md", "lamp.md"}, log.decode(errors="replace")[-2000:]  # one per shard
    documents = {h["provenance"]["document_id"] for h in kettle["hits"]}
    assert documents == set(CORPUS)  # both shards' documents are served
    assert (scratch["d"] / "index" / "builds" / version / "manifest.json").exists()
    assert not any(scratch[n].exists() for n in ("a", "b", "c"))


def _keys(s3_server, bucket: str) -> set[str]:
    client = s3_server.client()
    keys: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update(o["Key"] for o in page.get("Contents", []))
    return keys


def _wait_ready(base: str, service: subprocess.Popen[bytes], startup_s: float = 120.0) -> None:
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        if service.poll() is not None:
            out = service.stdout.read().decode(errors="replace") if service.stdout else ""
            raise AssertionError(f"the service exited during startup:\n{out[-4000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{base}/readyz did not answer within {startup_s} s")

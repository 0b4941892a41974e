"""Publishing a new version while queries stream in: no failures, no mixed versions."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import httpx
import pytest

from assets.runs import materialize_pipeline
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.layout import CHUNKS
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.index.vector_store import PayloadFilter, VectorStore
from rag_pipelines.retrieval.live import LiveIndex
from rag_pipelines.service.app import create_app
from tests.service.pipeline import copy_examples, write_sources
from tests.service.server import serving

THREADS = 4
WARM_S = 4.0  # queries answered by the old version before the new one is built
AFTER_S = 4.0  # queries answered by the new version after the switch
REMOTE = "How many days per week can I work remotely?"
PARKING = "Where can employees park? The Zephyr garage"
QUERIES = (REMOTE, "hotel price cap per night", "VPN and laptop security", PARKING)
MODES = ("dense", "bm25", "graph", "hybrid")
POLICIES = PayloadFilter(sources=("policies",))  # the FAQ says "3 days" in every version
NEW_FILE = "parking.md"
NEW_TEXT = """# Parking

## The Zephyr garage
Employees may park in the Zephyr garage behind the Amsterdam office; badges open the barrier.
"""


@dataclass
class Observed:
    """What the query threads saw, one record per request, in each thread's order."""

    records: list[tuple[int, int, str | None, list[dict[str, Any]], str]] = field(
        default_factory=list
    )
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Switch:
    """The outcome of publishing v2 while the service answered queries on v1."""

    config: SourcesFile
    base_url: str
    ready_before_build: int
    v1: str
    v2: str
    observed: Observed
    index_after: dict[str, Any]
    stream_s: float


def query_stream(base_url: str, worker: int, stop: threading.Event, out: Observed) -> None:
    """Send searches (modes and queries round-robin) until told to stop; record every answer."""
    cases = itertools.cycle(itertools.product(QUERIES, MODES))
    for _ in range(worker * 3):
        next(cases)
    with httpx.Client(base_url=base_url, timeout=60.0) as client:
        while not stop.is_set():
            query, mode = next(cases)
            try:
                response = client.post("/v1/search", json={"query": query, "mode": mode})
                body = response.json()
            except Exception as exc:  # a dropped connection is a failure, not a crash
                with out.lock:
                    out.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with out.lock:
                out.records.append(
                    (
                        worker,
                        response.status_code,
                        body.get("index_version"),
                        body.get("hits", []),
                        query,
                    )
                )


def wait_for_version(client: httpx.Client, version: str, timeout_s: float = 15.0) -> None:
    """Poll /readyz until the service serves `version`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = client.get("/readyz")
        if response.status_code == 200 and response.json()["index_version"] == version:
            return
        time.sleep(0.1)
    raise TimeoutError(f"the service did not switch to {version} within {timeout_s} s")


def live_version(config: SourcesFile) -> str:
    """The version LIVE.json names."""
    pointer = PipelineContext(config).registry.live()
    assert pointer is not None
    return pointer.version


@pytest.fixture(scope="module")
def switch(tmp_path_factory: pytest.TempPathFactory) -> Switch:
    """Serve an empty data dir, publish v1, stream queries, publish v2 mid-stream."""
    tmp = tmp_path_factory.mktemp("publish")
    policies, handbook = copy_examples(tmp)
    config = write_sources(tmp, policies, handbook)
    instance = dg.DagsterInstance.ephemeral()
    app = create_app(PipelineContext(config), poll_s=0.2)
    with serving(app) as base_url, httpx.Client(base_url=base_url, timeout=60.0) as client:
        ready_before_build = client.get("/readyz").status_code
        assert all(r.success for r in materialize_pipeline(config, instance))
        v1 = live_version(config)
        wait_for_version(client, v1)

        observed = Observed()
        stop = threading.Event()
        workers = [
            threading.Thread(target=query_stream, args=(base_url, i, stop, observed))
            for i in range(THREADS)
        ]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        try:
            time.sleep(WARM_S)
            policy = policies / "remote-work-policy.md"
            text = policy.read_text(encoding="utf-8")
            policy.write_text(text.replace("up to 3 days", "up to 4 days"), encoding="utf-8")
            (handbook / NEW_FILE).write_text(NEW_TEXT, encoding="utf-8")
            assert all(r.success for r in materialize_pipeline(config, instance))
            v2 = live_version(config)
            wait_for_version(client, v2)
            time.sleep(AFTER_S)
        finally:
            stop.set()
            for worker in workers:
                worker.join(timeout=60)
            stream_s = time.monotonic() - started
        index_after = client.get("/v1/index").json()
    return Switch(config, base_url, ready_before_build, v1, v2, observed, index_after, stream_s)


def test_service_becomes_ready_when_the_first_version_is_published(switch: Switch) -> None:
    assert switch.ready_before_build == 503
    assert switch.v1 != switch.v2


def test_no_request_failed(switch: Switch) -> None:
    records = switch.observed.records
    assert switch.observed.errors == []
    assert len(records) >= 100, f"only {len(records)} requests ran"
    assert {status for _, status, *_ in records} == {200}
    per_version = {v: sum(r[2] == v for r in records) for v in (switch.v1, switch.v2)}
    print(
        f"{len(records)} requests in {switch.stream_s:.1f} s from {THREADS} threads: {per_version}"
    )


def test_every_response_comes_from_one_version(switch: Switch) -> None:
    """Each hit carries the response's version and is a chunk that exists in that version."""
    ctx = PipelineContext(switch.config)
    chunk_ids = {
        version: {
            json.loads(line)["id"]
            for line in (ctx.registry.build_path(version) / CHUNKS).read_text().splitlines()
            if line.strip()
        }
        for version in (switch.v1, switch.v2)
    }
    unchanged = chunk_ids[switch.v1] & chunk_ids[switch.v2]
    assert unchanged and chunk_ids[switch.v1] - unchanged and chunk_ids[switch.v2] - unchanged
    answered = {switch.v1: 0, switch.v2: 0}
    for _, _, version, hits, query in switch.observed.records:
        assert version in chunk_ids
        assert hits
        for hit in hits:
            assert hit["provenance"]["index_version"] == version
            assert hit["chunk_id"] in chunk_ids[version]
        if query == REMOTE:
            # The edited sentence reads as the version says (the FAQ keeps saying 3 days).
            text = " ".join(h["text"] for h in hits if h["chunk_id"] not in unchanged)
            expected, stale = ("3", "4") if version == switch.v1 else ("4", "3")
            assert f"up to {stale} days" not in text
            answered[version] += f"up to {expected} days" in text
    assert answered[switch.v1] > 0 and answered[switch.v2] > 0, answered


def test_both_versions_answered_and_never_went_back(switch: Switch) -> None:
    records = switch.observed.records
    assert {version for _, _, version, _, _ in records} == {switch.v1, switch.v2}
    for worker in range(THREADS):
        seen = [version for w, _, version, _, _ in records if w == worker]
        switched_at = seen.index(switch.v2)
        assert switched_at > 0, f"thread {worker} never saw the old version"
        assert set(seen[switched_at:]) == {switch.v2}, f"thread {worker} went back to v1"


def test_index_reports_the_new_version_after_the_switch(switch: Switch) -> None:
    body = switch.index_after
    assert body["version"] == switch.v2 == live_version(switch.config)
    assert body["previous"] == switch.v1
    assert body["manifest"]["sources"]["handbook"]["documents"] == 7  # 5 + nested rota + parking
    new_hits = [
        hit
        for _, _, version, hits, query in switch.observed.records
        if query == PARKING and version == switch.v2
        for hit in hits[:1]
    ]
    assert new_hits and all(h["provenance"]["document_id"] == NEW_FILE for h in new_hits)


class SpyStore:
    """A vector store that records which collections were released."""

    def __init__(self, store: VectorStore) -> None:
        self.store = store
        self.released: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def release(self, name: str) -> None:
        """Record, then release."""
        self.released.append(name)
        self.store.release(name)


def test_live_index_closes_the_old_version_only_after_its_last_request(switch: Switch) -> None:
    ctx = PipelineContext(switch.config)
    registry = ctx.registry
    old_manifest = registry.manifest(switch.v1)
    old_collections = [old_manifest.collection, old_manifest.bm25_collection]
    spy = SpyStore(open_vector_store(ctx.config.index.qdrant, ctx.workspace))
    live = LiveIndex(ctx, store=spy)  # type: ignore[arg-type]
    registry.point_live(switch.v1)
    try:
        assert live.refresh() is True and live.version == switch.v1
        with live.acquire() as old:
            registry.point_live(switch.v2)
            assert live.refresh() is True
            assert live.version == switch.v2
            assert spy.released == [], "the old version was closed while a request held it"
            response = old.search(REMOTE, 5, "hybrid", flt=POLICIES)
            assert response.index_version == switch.v1 and response.hits
            assert "up to 3 days" in " ".join(h.text for h in response.hits)
            with live.acquire() as new:
                assert new.version == switch.v2
                hits = new.search(REMOTE, 5, "hybrid", flt=POLICIES).hits
                assert "up to 4 days" in " ".join(h.text for h in hits)
            assert spy.released == []
        assert spy.released == old_collections
        assert live.refresh() is False, "an unchanged LIVE.json must not reload"
    finally:
        live.stop()
        registry.point_live(switch.v2)

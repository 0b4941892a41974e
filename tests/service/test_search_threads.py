"""Where a search runs: fast ones on the event loop, reranked ones on a worker thread."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.live import LiveIndex
from rag_pipelines.service.app import create_app
from tests.rerankers import SpyReranker
from tests.service.server import serving


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def placed(example_config: SourcesFile, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each search the service runs: whether it ran on the event loop's thread."""
    seen: list[bool] = []
    real = VersionIndex.search

    def spy(self: VersionIndex, *args: Any, **kwargs: Any) -> Any:
        seen.append(_on_event_loop() and threading.current_thread().name != "AnyIO worker thread")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(VersionIndex, "search", spy)
    return seen


def _app_with_a_reranker(config: SourcesFile) -> Any:
    """The service with a reranker on its version (the example corpus trains none)."""
    live = LiveIndex(PipelineContext(config))
    live.refresh()
    with live.acquire() as index:
        index.reranker = SpyReranker()
    return create_app(PipelineContext(config), live)


def test_plain_searches_skip_the_thread_pool_and_reranked_ones_use_it(
    example_config: SourcesFile, placed: list[bool]
) -> None:
    """Plain: on the loop (no hand-offs); rerank asked: a worker thread (the loop stays free)."""
    app = _app_with_a_reranker(example_config)
    with serving(app) as url, httpx.Client(base_url=url, timeout=60.0) as http:
        for mode in ("dense", "bm25", "hybrid"):
            body = {"query": "incident response", "mode": mode}
            assert http.post("/v1/search", json=body).status_code == 200
        asked = {"query": "incident response", "rerank": True}
        assert http.post("/v1/search", json=asked).json()["reranked"] is True
        assert http.get("/healthz").status_code == 200
    assert placed == [True, True, True, False]


def test_a_version_that_reranks_by_default_sends_searches_that_do_not_say_to_a_thread(
    example_config: SourcesFile, placed: list[bool]
) -> None:
    """Regression: the route read the default off the live version before acquiring it, so a
    version switching to reranking by default meanwhile ran a reranked search on the loop.
    Now the acquired version decides; and without a reranker, rerank: true is plain work."""
    app = _app_with_a_reranker(example_config)
    with serving(app) as url, httpx.Client(base_url=url, timeout=60.0) as http:
        body: dict[str, Any] = {"query": "incident response", "mode": "hybrid"}
        assert http.post("/v1/search", json=body).status_code == 200
        with app.state.live.acquire() as index:
            index.rerank_default = True
        assert http.post("/v1/search", json=body).json()["reranked"] is True
        assert http.post("/v1/search", json={**body, "rerank": False}).status_code == 200
        with app.state.live.acquire() as index:
            index.reranker = None
        assert http.post("/v1/search", json={**body, "rerank": True}).json()["reranked"] is False
    assert placed == [True, False, True, True]

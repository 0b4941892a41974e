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
from rag_pipelines.service.app import create_app
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


def test_plain_searches_skip_the_thread_pool_and_reranked_ones_use_it(
    example_config: SourcesFile, placed: list[bool]
) -> None:
    """Plain: on the loop (no hand-offs); rerank asked: a worker thread (the loop stays free)."""
    app = create_app(PipelineContext(example_config))
    with serving(app) as url, httpx.Client(base_url=url, timeout=60.0) as http:
        for mode in ("dense", "bm25", "hybrid"):
            body = {"query": "incident response", "mode": mode}
            assert http.post("/v1/search", json=body).status_code == 200
        body = {"query": "incident response", "rerank": True}
        assert http.post("/v1/search", json=body).status_code == 200
        assert http.get("/healthz").status_code == 200
    assert placed == [True, True, True, False]

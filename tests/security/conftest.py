"""Fixtures: the restricted corpus built once through the Dagster assets, and the real service."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import httpx
import pytest

from assets.runs import materialize_pipeline
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.retrieval.live import LiveIndex
from rag_pipelines.service.app import create_app
from tests.rerankers import SpyReranker
from tests.security.corpus import KEYS, write_config
from tests.service.server import serving


@pytest.fixture(scope="package")
def secured_config(tmp_path_factory: pytest.TempPathFactory) -> SourcesFile:
    """The corpus materialized and published once, with the keys file configured."""
    config = write_config(tmp_path_factory.mktemp("security"))
    results = materialize_pipeline(config, dg.DagsterInstance.ephemeral())
    assert all(r.success for r in results)
    return config


@pytest.fixture(scope="package")
def spy() -> SpyReranker:
    """The reranker of the served version."""
    return SpyReranker()


@pytest.fixture(scope="package")
def base_url(secured_config: SourcesFile, spy: SpyReranker) -> Iterator[str]:
    """The real service under uvicorn, with the spy as the version's reranker."""
    live = LiveIndex(PipelineContext(secured_config))
    live.refresh()
    with live.acquire() as index:
        index.reranker = spy
    with serving(create_app(PipelineContext(secured_config), live)) as url:
        yield url


@pytest.fixture(scope="package")
def clients(base_url: str) -> Iterator[dict[str, httpx.Client]]:
    """An HTTP client per key name, plus "none" without a key."""
    made = {
        name: httpx.Client(
            base_url=base_url, timeout=60.0, headers={"Authorization": f"Bearer {key}"}
        )
        for name, (key, _) in KEYS.items()
    }
    made["none"] = httpx.Client(base_url=base_url, timeout=60.0)
    yield made
    for client in made.values():
        client.close()

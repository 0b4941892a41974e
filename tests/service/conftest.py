"""Fixtures: the example corpus built once, and the real service over it per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest

from assets.runs import materialize_pipeline
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.service.app import create_app
from tests.service.pipeline import copy_examples, write_sources
from tests.service.server import serving


@pytest.fixture(scope="package")
def example_build(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[SourcesFile, list[dg.ExecuteInProcessResult]]:
    """The example corpus materialized and published once, with the Dagster run results."""
    tmp = tmp_path_factory.mktemp("service")
    config = write_sources(tmp, *copy_examples(tmp))
    results = materialize_pipeline(config, dg.DagsterInstance.ephemeral())
    assert all(r.success for r in results)
    return config, results


@pytest.fixture(scope="package")
def example_config(
    example_build: tuple[SourcesFile, list[dg.ExecuteInProcessResult]],
) -> SourcesFile:
    """The published example for the read-only service tests."""
    return example_build[0]


@pytest.fixture(scope="module")
def base_url(example_config: SourcesFile) -> Iterator[str]:
    """The real service (fresh metrics) over the published example index."""
    with serving(create_app(PipelineContext(example_config))) as url:
        yield url


@pytest.fixture(scope="module")
def http(base_url: str) -> Iterator[httpx.Client]:
    """An HTTP client for the module's service."""
    with httpx.Client(base_url=base_url, timeout=60.0) as client:
        yield client


@pytest.fixture
def data_dir(example_config: SourcesFile) -> Path:
    """The published pipeline's data directory."""
    return example_config.pipeline.data_dir

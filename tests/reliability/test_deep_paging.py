"""Following next_offset to the deepest page the HTTP API serves, on the real service."""

from __future__ import annotations

import json
from collections.abc import Iterator

import dagster as dg
import httpx
import pytest
import yaml

from assets.runs import materialize_pipeline
from rag_pipelines.config import load_sources_file
from rag_pipelines.context import PipelineContext
from rag_pipelines.retrieval.paging import MAX_OFFSET
from rag_pipelines.service.app import create_app
from tests.service.server import serving

DOCUMENTS = MAX_OFFSET + 150  # more hits than the deepest page reaches
QUERY = "harbour lighthouse keeper"


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The service over a corpus where every document matches the query."""
    tmp = tmp_path_factory.mktemp("deep-paging")
    corpus = tmp / "corpus"
    corpus.mkdir()
    lines = [
        json.dumps(
            {
                "_id": f"d{i:04d}",
                "title": "",
                "text": f"Log {i} of the harbour lighthouse "
                f"keeper: ship number {i} passed at dawn.",
            }
        )
        for i in range(DOCUMENTS)
    ]
    (corpus / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = {
        "pipeline": {"name": "deep", "data_dir": str(tmp / "data")},
        "embedding": {"device": "cpu"},
        "sources": [{"name": "logs", "connector": {"type": "beir", "path": str(corpus)}}],
    }
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_sources_file(path)
    assert all(r.success for r in materialize_pipeline(config, dg.DagsterInstance.ephemeral()))
    with (
        serving(create_app(PipelineContext(config))) as url,
        httpx.Client(base_url=url, timeout=120.0) as client,
    ):
        yield client


def _page(http: httpx.Client, offset: int, top_k: int) -> httpx.Response:
    body = {"query": QUERY, "mode": "bm25", "top_k": top_k, "offset": offset, "rerank": False}
    return http.post("/v1/search", json=body)


def test_the_deepest_page_says_there_is_no_next_one(http: httpx.Client) -> None:
    """Regression: offset 900, top_k 100 returned next_offset 1000, which the API refuses (422)."""
    deepest = _page(http, MAX_OFFSET, 100)
    assert deepest.status_code == 200, deepest.text
    body = deepest.json()
    assert len(body["hits"]) == 100 and body["hits"][0]["rank"] == MAX_OFFSET + 1
    assert body["next_offset"] is None


@pytest.mark.parametrize("top_k", [100, 70])
def test_every_next_offset_is_accepted_until_the_last_page(http: httpx.Client, top_k: int) -> None:
    """Following next_offset from the first page ends on a page without one, never a 422."""
    offset: int | None = 0
    pages = 0
    while offset is not None:
        response = _page(http, offset, top_k)
        assert response.status_code == 200, f"offset {offset}: {response.text}"
        offset = response.json()["next_offset"]
        pages += 1
    assert pages == MAX_OFFSET // top_k + 1


def test_a_page_beyond_the_deepest_is_still_refused(http: httpx.Client) -> None:
    refused = _page(http, MAX_OFFSET + 1, 10)
    assert refused.status_code == 422
    assert "offset" in refused.text

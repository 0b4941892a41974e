"""Invalid requests get a 422 naming the field; a service with nothing published answers 503."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.service.app import create_app
from tests.service.pipeline import write_sources
from tests.service.server import serving

LEAKS = ("Traceback", 'File "', ".py", "site-packages", "/work/", "/tmp/", "pydantic")

# (case id, JSON body, the field the message must name, a fragment of its explanation)
INVALID: list[tuple[str, Any, str, str]] = [
    ("empty query", {"query": ""}, "query", "at least 1 character"),
    ("whitespace query", {"query": " \t\n "}, "query", "more than whitespace"),
    ("query over 2000 chars", {"query": "x" * 2001}, "query", "at most 2000 characters"),
    ("query not a string", {"query": 42}, "query", "valid string"),
    ("query missing", {"top_k": 5}, "query", "Field required"),
    ("top_k 0", {"query": "vpn", "top_k": 0}, "top_k", "greater than or equal to 1"),
    ("top_k 101", {"query": "vpn", "top_k": 101}, "top_k", "less than or equal to 100"),
    ("top_k ten", {"query": "vpn", "top_k": "ten"}, "top_k", "valid integer"),
    ("top_k fractional", {"query": "vpn", "top_k": 2.5}, "top_k", "fractional part"),
    ("unknown mode", {"query": "vpn", "mode": "semantic"}, "mode", "'hybrid'"),
    ("rerank not a bool", {"query": "vpn", "rerank": "maybe"}, "rerank", "valid boolean"),
    ("unknown top-level key", {"query": "vpn", "limit": 5}, "limit", "Extra inputs"),
    (
        "sources not a list",
        {"query": "vpn", "filters": {"sources": "handbook"}},
        "filters.sources",
        "valid list",
    ),
    (
        "tags not strings",
        {"query": "vpn", "filters": {"tags": [1]}},
        "filters.tags.0",
        "valid string",
    ),
    (
        "metadata value a dict",
        {"query": "vpn", "filters": {"metadata": {"region": {"in": ["eu"]}}}},
        "filters.metadata.region",
        "valid string",
    ),
    (
        "unknown filter key",
        {"query": "vpn", "filters": {"source": ["handbook"]}},
        "filters.source",
        "Extra inputs",
    ),
    ("filters not an object", {"query": "vpn", "filters": ["handbook"]}, "filters", "dictionary"),
    ("body a list", [{"query": "vpn"}], "body", "dictionary"),
]


def assert_clean_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A JSON error body with the given status and code, free of internals."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message", "details", "request_id"}
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["error"] == code and body["message"]
    for leak in LEAKS:
        assert leak not in response.text, f"{leak!r} leaked into {response.text}"
    return body


@pytest.mark.parametrize(
    ("body", "field", "fragment"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_search_is_a_422_naming_the_field(
    http: httpx.Client, body: Any, field: str, fragment: str
) -> None:
    response = http.post("/v1/search", json=body)
    error = assert_clean_error(response, 422, "invalid_request")
    assert error["message"].startswith(f"{field}")
    assert fragment in error["message"]
    assert any(d["field"].startswith(field) and d["message"] for d in error["details"])


@pytest.mark.parametrize(
    ("raw", "position"), [(b'{"query": ', 10), (b"", 0), (b"{'query': 'vpn'}", 1)]
)
def test_malformed_json_is_a_422_naming_the_body(
    http: httpx.Client, raw: bytes, position: int
) -> None:
    """Regression: the message named the character offset as if it were a field ("10: ...")."""
    response = http.post("/v1/search", content=raw, headers={"content-type": "application/json"})
    error = assert_clean_error(response, 422, "invalid_request")
    assert error["details"] == [
        {"field": "body", "message": error["message"].removeprefix("body: ")}
    ]
    if raw:
        assert error["message"].startswith(f"body: invalid JSON at character {position}")


def test_every_error_is_reported_at_once(http: httpx.Client) -> None:
    response = http.post("/v1/search", json={"query": "", "top_k": 0, "mode": "x"})
    error = assert_clean_error(response, 422, "invalid_request")
    assert [d["field"] for d in error["details"]] == ["query", "top_k", "mode"]


def test_valid_edge_values_are_accepted(http: httpx.Client) -> None:
    """The limits themselves are valid: a 2000-char query, top_k 1 and 100, empty filters."""
    for body in (
        {"query": ("remote work vpn " * 125), "top_k": 1},
        {"query": "vpn", "top_k": 100, "filters": {}},
        {"query": "vpn", "filters": {"sources": [], "tags": [], "metadata": {}}},
    ):
        response = http.post("/v1/search", json=body)
        assert response.status_code == 200, response.text
        hits = response.json()["hits"]
        assert hits, body
        assert len(hits) <= int(body.get("top_k", 10)), body


def test_unknown_route_is_a_404_json_error(http: httpx.Client) -> None:
    response = http.get("/v2/search")
    assert_clean_error(response, 404, "http_error")


def test_wrong_method_is_a_405_json_error(http: httpx.Client) -> None:
    response = http.get("/v1/search")
    assert_clean_error(response, 405, "http_error")


@pytest.fixture(scope="module")
def empty_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The real service over a data dir where nothing was ever built."""
    tmp = tmp_path_factory.mktemp("empty")
    config: SourcesFile = write_sources(tmp)
    assert not Path(config.pipeline.data_dir, "index").exists()
    with (
        serving(create_app(PipelineContext(config), poll_s=0.2)) as url,
        httpx.Client(base_url=url, timeout=30.0) as client,
    ):
        yield client


def test_nothing_published_search_is_a_503(empty_service: httpx.Client) -> None:
    response = empty_service.post("/v1/search", json={"query": "vpn"})
    error = assert_clean_error(response, 503, "no_index")
    assert "materialize" in error["message"]


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/readyz", "not_ready"),
        ("/v1/index", "no_index"),
        ("/v1/documents/handbook/faq.md", "no_index"),
    ],
)
def test_nothing_published_is_a_503_everywhere(
    empty_service: httpx.Client, path: str, code: str
) -> None:
    assert_clean_error(empty_service.get(path), 503, code)


def test_nothing_published_still_healthy_and_validating(empty_service: httpx.Client) -> None:
    assert empty_service.get("/healthz").status_code == 200
    response = empty_service.post("/v1/search", json={"query": "vpn", "top_k": 0})
    assert_clean_error(response, 422, "invalid_request")
    assert empty_service.get("/metrics").status_code == 200

"""With API keys on, /docs can authenticate: the schema declares both key schemes and its
example bodies are requests the real service answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag_pipelines.config.access import AuthSettings
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.service.app import create_app
from tests.service.server import serving

KEY = "k" * 40
PROTECTED = ["/v1/search", "/v1/index", "/v1/feedback", "/metrics"]


@pytest.fixture(scope="module")
def keyed_url(
    example_config: SourcesFile, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The real service over the published example, with one API key configured."""
    keys: Path = tmp_path_factory.mktemp("keys") / "keys.yaml"
    keys.write_text(f"- {{name: ops, key: {KEY}}}\n", encoding="utf-8")
    service = example_config.service.model_copy(update={"auth": AuthSettings(keys_file=keys)})
    config = example_config.model_copy(update={"service": service})
    with serving(create_app(PipelineContext(config))) as url:
        yield url


@pytest.fixture(scope="module")
def schema(keyed_url: str) -> dict:
    """The service's OpenAPI document (open without a key)."""
    response = httpx.get(f"{keyed_url}/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operation(schema: dict, path: str) -> dict:
    methods = schema["paths"][path]
    return methods.get("post") or methods["get"]


def test_schema_declares_bearer_and_api_key_schemes(schema: dict) -> None:
    """Regression: with service.auth on, /openapi.json had no securitySchemes (no Authorize)."""
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    assert schemes["apiKey"]["type"] == "apiKey"
    assert schemes["apiKey"]["in"] == "header" and schemes["apiKey"]["name"] == "X-API-Key"
    for path in PROTECTED:
        assert _operation(schema, path)["security"] == [{"bearer": []}, {"apiKey": []}], path
    for path in ["/healthz", "/readyz"]:
        assert "security" not in _operation(schema, path), path


def _examples(schema: dict, path: str) -> dict[str, dict]:
    content = _operation(schema, path)["requestBody"]["content"]["application/json"]
    return {name: example["value"] for name, example in content["examples"].items()}


def test_each_documented_search_example_succeeds_with_a_key(keyed_url: str, schema: dict) -> None:
    """Regression: the generated example body ("mode": "string") was a 422."""
    examples = _examples(schema, "/v1/search")
    assert len(examples) >= 3
    model = schema["components"]["schemas"]["SearchRequest"]
    assert model["examples"] == list(examples.values())
    with httpx.Client(base_url=keyed_url, timeout=60.0) as http:
        for name, body in examples.items():
            for headers in ({"Authorization": f"Bearer {KEY}"}, {"X-API-Key": KEY}):
                response = http.post("/v1/search", json=body, headers=headers)
                assert response.status_code == 200, (name, response.text)
        assert http.post("/v1/search", json=examples["default"]).status_code == 401


def test_documented_feedback_example_is_a_valid_request(keyed_url: str, schema: dict) -> None:
    """The feedback example validates; its placeholder chunk id is simply not found (404), and
    with a chunk id taken from a search the same body is recorded (201)."""
    (body,) = _examples(schema, "/v1/feedback").values()
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=keyed_url, timeout=60.0, headers=headers) as http:
        assert http.post("/v1/feedback", json=body).status_code == 404
        hits = http.post("/v1/search", json={"query": body["query"]}).json()["hits"]
        recorded = http.post("/v1/feedback", json={**body, "chunk_id": hits[0]["chunk_id"]})
        assert recorded.status_code == 201, recorded.text


def test_without_auth_no_scheme_is_declared(http: httpx.Client) -> None:
    """No service.auth: nothing to authorize, so the docs offer no Authorize button."""
    schema = http.get("/openapi.json").json()
    assert "securitySchemes" not in schema.get("components", {})
    assert "security" not in _operation(schema, "/v1/search")

"""API keys, rate limits and error bodies of the real service."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from rag_pipelines.client import RagClient, ServiceError
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from tests.security.corpus import KEYS, LIMITED_BURST, SALARIES, SALARY_QUERY
from tests.service.test_validation import LEAKS, assert_clean_error

PROTECTED = [
    ("POST", "/v1/search", {"query": SALARY_QUERY}),
    ("GET", "/v1/documents/handbook/vpn.md", None),
    ("GET", "/v1/index", None),
    ("GET", f"/v1/chunks/{'0' * 32}/lineage", None),
    ("POST", "/v1/feedback", {"query": "q", "chunk_id": "0" * 32, "useful": True}),
    ("GET", "/metrics", None),
    ("GET", "/v2/unknown-route", None),
]
WRONG = {
    "unknown key": "not-a-key-0123456789abcdef",
    "a key's own SHA-256": hashlib.sha256(KEYS["hr"][0].encode()).hexdigest(),
    "a key with one character more": KEYS["hr"][0] + "x",
    "a key in the wrong scheme": None,
}


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED, ids=[p[1] for p in PROTECTED])
def test_no_key_is_a_401_with_a_challenge(
    clients: dict[str, httpx.Client], method: str, path: str, body: object
) -> None:
    response = clients["none"].request(method, path, json=body)
    assert_clean_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == 'Bearer realm="rag-pipelines"'


@pytest.mark.parametrize("key", WRONG.values(), ids=WRONG.keys())
def test_wrong_key_is_a_401(base_url: str, key: str | None) -> None:
    headers = (
        {"Authorization": f"Bearer {key}"}
        if key
        else {"Authorization": f"Basic {KEYS['hr'][0]}"}  # a valid key, not as a bearer token
    )
    response = httpx.get(f"{base_url}/v1/index", headers=headers)
    assert_clean_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith('Bearer realm="rag-pipelines"')


def test_every_key_works_as_bearer_or_x_api_key(base_url: str) -> None:
    for name, (key, _) in KEYS.items():
        if name == "limited":
            continue  # its bucket is for the rate-limit test alone
        for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
            assert httpx.get(f"{base_url}/v1/index", headers=headers).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_need_no_key(clients: dict[str, httpx.Client], path: str) -> None:
    assert clients["none"].get(path).status_code == 200


def test_metrics_answer_with_a_key(clients: dict[str, httpx.Client]) -> None:
    response = clients["reader"].get("/metrics")
    assert response.status_code == 200 and "rag_http_requests_total" in response.text
    assert 'status="401"' in response.text  # rejected requests are counted too


def test_rate_limit_is_a_429_with_retry_after_per_key(clients: dict[str, httpx.Client]) -> None:
    limited = clients["limited"]  # used by no other test: its bucket is full
    for _ in range(LIMITED_BURST):
        assert limited.get("/v1/documents/handbook/vpn.md").status_code == 200
    response = limited.get("/v1/documents/handbook/vpn.md")
    assert_clean_error(response, 429, "rate_limited")
    retry_after = int(response.headers["retry-after"])
    assert retry_after >= 1
    assert retry_after <= 5
    assert clients["reader"].get("/v1/documents/handbook/vpn.md").status_code == 200
    assert clients["none"].get("/healthz").status_code == 200  # probes are never limited


def test_invalid_lineage_version_is_a_422(clients: dict[str, httpx.Client]) -> None:
    """A version is a name, not a path: ../ cannot reach files outside the builds."""
    response = clients["admin"].get(f"/v1/chunks/{'0' * 32}/lineage?version=../../../etc")
    assert_clean_error(response, 422, "invalid_request")


def test_internal_error_is_a_500_with_a_request_id_and_no_internals(
    clients: dict[str, httpx.Client], secured_config: SourcesFile
) -> None:
    """A corrupt manifest makes lineage fail inside; the caller gets an id, the log the trace."""
    version = "v20000101T000000-000000"
    folder = PipelineContext(secured_config).registry.build_path(version)
    folder.mkdir(parents=True)
    try:
        (folder / "manifest.json").write_text("{not json", encoding="utf-8")
        response = clients["admin"].get(f"/v1/chunks/{'0' * 32}/lineage?version={version}")
    finally:
        (folder / "manifest.json").unlink()
        folder.rmdir()
    body = assert_clean_error(response, 500, "internal_error")
    assert body["request_id"] and "request id" in body["message"]
    for leak in (*LEAKS, str(Path(secured_config.pipeline.data_dir)), "ValidationError"):
        assert leak not in response.text


def test_client_sends_its_api_key(base_url: str) -> None:
    with RagClient(base_url, api_key=KEYS["hr"][0]) as rag:
        assert rag.search(SALARY_QUERY, top_k=1).hits[0].provenance.document_key == SALARIES
    with RagClient(base_url) as rag, pytest.raises(ServiceError) as raised:
        rag.search(SALARY_QUERY)
    assert raised.value.status == 401 and raised.value.code == "unauthorized"
    assert raised.value.request_id

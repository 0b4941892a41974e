"""/docs and /redoc load their assets from the service itself, not from a CDN."""

from __future__ import annotations

import http.client
import re
from pathlib import Path

import httpx
import pytest
import yaml

from rag_pipelines.config import load_sources_file
from rag_pipelines.context import PipelineContext
from rag_pipelines.service.app import create_app
from rag_pipelines.service.docs import ASSETS_DIR
from tests.service.pipeline import write_sources
from tests.service.server import serving

URLS = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_local_assets(http: httpx.Client, page: str) -> None:
    """Regression: FastAPI's default pages loaded Swagger UI / ReDoc from cdn.jsdelivr.net."""
    response = http.get(page)
    assert response.status_code == 200
    urls = URLS.findall(response.text)
    assert urls and all(u.startswith("/") for u in urls), urls
    assert "googleapis" not in response.text and "cdn." not in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    for url in urls:
        asset = http.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0


def test_assets_ship_with_their_licenses() -> None:
    names = {p.name for p in ASSETS_DIR.iterdir()}
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"} <= names
    assert {"swagger-ui-dist.LICENSE", "redoc.LICENSE"} <= names


def test_openapi_documents_paging_and_the_unknown_source_error(http: httpx.Client) -> None:
    schema = http.get("/openapi.json").json()
    request = schema["components"]["schemas"]["SearchRequest"]["properties"]
    assert {"offset", "min_score"} <= set(request)
    assert "400" in schema["paths"]["/v1/search"]["post"]["responses"]


def test_docs_assets_are_open_but_open_nothing_else(tmp_path: Path) -> None:
    """With API keys configured the docs and their assets need no key, and a path that only
    starts like an asset (`/docs/assets/../v1/index`) does not reach a protected route."""
    (tmp_path / "keys.yaml").write_text(f"- {{name: ops, key: {'k' * 40}}}\n", encoding="utf-8")
    write_sources(tmp_path)
    data = yaml.safe_load((tmp_path / "sources.yaml").read_text(encoding="utf-8"))
    data["service"] = {"auth": {"keys_file": "keys.yaml"}}
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_sources_file(tmp_path / "sources.yaml")
    with serving(create_app(PipelineContext(config))) as url:
        assert httpx.get(f"{url}/docs").status_code == 200
        assert httpx.get(f"{url}/docs/assets/swagger-ui.css").status_code == 200
        assert httpx.get(f"{url}/v1/index").status_code == 401
        host, port = url.removeprefix("http://").split(":")
        raw = http.client.HTTPConnection(host, int(port), timeout=30)
        raw.request("GET", "/docs/assets/../v1/index")  # sent as is, not normalized
        response = raw.getresponse()
        body = response.read().decode()
        raw.close()
    assert response.status == 404, body
    assert "manifest" not in body

"""/docs and /redoc load their assets from the service itself, not from a CDN."""

from __future__ import annotations

import re

import httpx
import pytest

from rag_pipelines.service.docs import ASSETS_DIR

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

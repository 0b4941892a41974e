"""/docs and /redoc rendered by a real browser with no request leaving the machine."""

from __future__ import annotations

import pytest

from tests.ui.browser import RequestLog, artifacts_dir, chromium

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("page_path", "selector", "expected"),
    [
        ("/docs", ".opblock-summary-path", "/v1/search"),
        ("/redoc", "h1", "rag-pipelines index service"),
    ],
)
def test_api_docs_render_offline(
    base_url: str, page_path: str, selector: str, expected: str
) -> None:
    """Regression: offline, FastAPI's CDN-backed /docs and /redoc were blank pages."""
    with chromium() as browser:
        page = browser.new_page()
        requests = RequestLog(page)
        page.goto(base_url + page_path, wait_until="networkidle")
        page.locator(selector, has_text=expected).first.wait_for(timeout=30_000)
        page.screenshot(path=artifacts_dir() / f"service{page_path.replace('/', '-')}.png")
        text = page.inner_text("body")
    assert requests.urls, "the page made no request at all"
    assert requests.foreign() == []
    assert requests.failed == []
    assert "POST" in text or "post" in text.lower()

"""Headless Chromium (Debian's package) driven by Playwright, and where screenshots go."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, Request, sync_playwright

REPO = Path(__file__).resolve().parents[2]
# Playwright's own browser download needs the internet; the distribution's chromium does not.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def artifacts_dir() -> Path:
    """$TEST_ARTIFACTS or ./test-artifacts: screenshots to look at after a run."""
    path = Path(os.environ.get("TEST_ARTIFACTS") or REPO / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def chromium_path() -> str:
    """The chromium executable; skips off CI when it is not installed (fails on CI)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium is not installed (apt-get install chromium); .ci/run installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for the block."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class RequestLog:
    """Every http(s) request a page makes, and those that failed, by host."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        self.failed: list[str] = []
        page.on("request", self._record)
        page.on("requestfailed", lambda r: self.failed.append(r.url))

    def _record(self, request: Request) -> None:
        if urlparse(request.url).scheme in ("http", "https", "ws", "wss"):
            self.urls.append(request.url)

    def foreign(self) -> list[str]:
        """Requests to anything but 127.0.0.1."""
        return [u for u in self.urls if urlparse(u).hostname != "127.0.0.1"]

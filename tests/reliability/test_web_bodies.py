"""A web page cannot take more than its bytes and its deadline: bombs, endless and dripping bodies.

A real site on 127.0.0.1 (threaded http.server) serves good pages beside hostile ones; the
hostile page becomes a typed failure (TooLarge, FetchTimeout), memory and time per fetch stay
bounded, and the good pages of the same run are indexed.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest.ingestion import ingest_source, list_source
from tests.ingest.connectors.site import Site, serving
from tests.reliability.hostile_web import MiB, Sent, serve_bomb, serve_drip, serve_endless

GOOD = ["/", "/good.html"]


@pytest.fixture
def site() -> Iterator[Site]:
    """Home → a good page and /hostile (each test says what /hostile answers)."""
    site = Site()
    site.html("/", "Home", "Welcome home.", ("/good.html", "/hostile"))
    site.html("/good.html", "Good", "The good page is always indexed.")
    with serving(site):
        yield site


def _source(site: Site, **extra: Any) -> SourceConfig:
    connector = {"type": "web", "start_url": f"{site.base}/", "max_depth": 1, **extra}
    return SourceConfig.model_validate({"name": "web", "connector": connector})


def _measured_listing(source: SourceConfig) -> tuple[Any, float, int]:
    """The listing, the seconds it took and the peak of Python memory allocated meanwhile."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        listing = list_source(source)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return listing, time.monotonic() - started, peak


def _assert_good_pages_indexed(site: Site, source: SourceConfig, error_type: str) -> None:
    report = ingest_source(source, {})
    assert sorted(d.id.removeprefix(site.base) for d in report.documents) == GOOD
    assert [(f.document_id.removeprefix(site.base), f.error_type) for f in report.failures] == [
        ("/hostile", error_type)
    ]


@pytest.mark.parametrize("hostile", ["gzip-bomb", "endless"])
def test_a_body_is_capped_on_its_decoded_bytes(site: Site, hostile: str) -> None:
    """A 2 MB gzip bomb inflating to 2 GiB, or an endless chunked body, drove the run past 5 GB."""
    sent = Sent()
    site.respond("/hostile", serve_bomb(sent) if hostile == "gzip-bomb" else serve_endless(sent))
    source = _source(site, max_file_mb=1)
    listing, seconds, peak = _measured_listing(source)
    assert [f.error_type for f in listing.failures] == ["TooLarge"]
    assert "max_file_mb" in listing.failures[0].reason
    assert peak < 16 * MiB, f"{peak / MiB:.0f} MiB allocated to read a page capped at 1 MB"
    assert seconds < 10
    assert sorted(i.id.removeprefix(site.base) for i in listing.items) == GOOD
    _assert_good_pages_indexed(site, source, "TooLarge")


def test_a_dripping_body_cannot_hold_a_fetch_past_its_deadline(site: Site) -> None:
    """A body dripping a byte every 2 s held each fetch for minutes with timeout_s: 5."""
    sent = Sent()
    site.respond("/hostile", serve_drip(sent, every_s=2.0, for_s=20.0))
    source = _source(site, timeout_s=3)
    listing, seconds, _ = _measured_listing(source)
    assert [f.error_type for f in listing.failures] == ["FetchTimeout"]
    assert seconds < 3 + 2.5, f"the listing took {seconds:.1f} s with one fetch over timeout_s=3"
    assert sorted(i.id.removeprefix(site.base) for i in listing.items) == GOOD
    _assert_good_pages_indexed(site, source, "FetchTimeout")


def test_max_file_mb_refuses_a_declared_length_unread(site: Site) -> None:
    """A Content-Length over max_file_mb is refused before its body is read."""
    site.pages["/hostile"] = ("x" * (2 * MiB), "text/plain")
    listing = list_source(_source(site, max_file_mb=1))
    assert [f.error_type for f in listing.failures] == ["TooLarge"]


def test_the_content_type_charset_decodes_the_page(site: Site) -> None:
    """`text/html; charset=windows-1251` was indexed as mojibake (decoded with the fallback)."""
    text = "Привет, мир: отчёт о продажах за май."
    body = f"<html><head><title>Отчёт</title></head><body><p>{text}</p></body></html>"

    def respond(handler: Any) -> None:
        data = body.encode("windows-1251")
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=windows-1251")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    site.respond("/hostile", respond)
    report = ingest_source(_source(site), {})
    page = next(d for d in report.documents if d.id.endswith("/hostile"))
    assert text in " ".join(s.text for s in page.sections)
    assert page.title == "Отчёт"
    assert sorted(d.id.removeprefix(site.base) for d in report.documents) == [*GOOD, "/hostile"]

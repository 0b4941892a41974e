"""Web connector against a small site served by http.server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest.ingestion import ingest_source, list_source
from tests.ingest.connectors.flow import changed, run_once, write_config
from tests.ingest.connectors.site import Site, serving


@pytest.fixture
def site() -> Iterator[Site]:
    """Home → a, b, private (robots-disallowed), an external link; a → deep/c → deep/d."""
    site = Site()
    site.pages["/robots.txt"] = ("User-agent: *\nDisallow: /private/\n", "text/plain")
    site.html(
        "/", "Home", "Welcome.", ("/a.html", "/b.html", "/private/s.html", "http://x.invalid/")
    )
    site.html("/a.html", "Alpha", "The alpha plan ships in May.", ("/deep/c.html",))
    site.html("/b.html", "Beta", "Beta is retired.")
    site.html("/private/s.html", "Secret", "Not for crawlers.")
    site.html("/deep/c.html", "Gamma", "Gamma is two hops away.", ("/deep/d.html",))
    site.html("/deep/d.html", "Delta", "Delta is three hops away.")
    with serving(site):
        yield site


def _crawl(site: Site, **extra: Any) -> dict[str, Any]:
    return {"type": "web", "start_url": f"{site.base}/", "max_depth": 2, **extra}


def _source(connector: dict[str, Any]) -> SourceConfig:
    return SourceConfig.model_validate({"name": "web", "connector": connector})


def _paths(site: Site, ids: list[str]) -> list[str]:
    return sorted(i.removeprefix(site.base) for i in ids)


def test_crawl_honours_depth_domain_and_robots(site: Site) -> None:
    """Pages within two hops on the same host, never a robots-disallowed or external one."""
    listing = list_source(_source(_crawl(site)))
    assert _paths(site, [i.id for i in listing.items]) == [
        "/",
        "/a.html",
        "/b.html",
        "/deep/c.html",
    ]
    assert site.requests["/private/s.html"] == 0
    assert listing.failures == []


def test_sitemap_lists_its_pages_only(site: Site) -> None:
    """A sitemap's <loc> pages are the documents; their links are not followed."""
    locs = "".join(f"<url><loc>{site.base}{p}</loc></url>" for p in ("/a.html", "/b.html"))
    site.pages["/sitemap.xml"] = (
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{locs}</urlset>",
        "application/xml",
    )
    listing = list_source(_source({"type": "web", "sitemap": f"{site.base}/sitemap.xml"}))
    assert _paths(site, [i.id for i in listing.items]) == ["/a.html", "/b.html"]


def test_conditional_requests_and_deletes(site: Site) -> None:
    """Unchanged pages answer 304 and are not parsed; an edit is re-read; a 404 is deleted."""
    source = _source(_crawl(site))
    first = ingest_source(source, {})
    assert "Alpha" in {d.title for d in first.documents}
    site.html("/a.html", "Alpha", "The alpha plan ships in June.", ("/deep/c.html",))
    del site.pages["/b.html"]
    second = ingest_source(source, {d.id: d for d in first.documents})
    assert (second.changed, second.deleted) == ([f"{site.base}/a.html"], [f"{site.base}/b.html"])
    assert site.not_modified["/"] == 1 and site.not_modified["/deep/c.html"] == 1
    assert site.not_modified["/a.html"] == 0
    assert _paths(site, second.unchanged) == ["/", "/deep/c.html"]


def test_unreachable_site_deletes_nothing(site: Site) -> None:
    """A site that does not answer keeps every page's last good version."""
    first = ingest_source(_source(_crawl(site)), {})
    gone = _source({"type": "web", "start_url": "http://127.0.0.1:9/", "timeout_s": 1})
    second = ingest_source(gone, {d.id: d for d in first.documents})
    assert second.deleted == [] and len(second.kept) == len(first.documents)


def test_sitemap_or_start_url_required() -> None:
    """Neither (or both) is a config error that says what to set."""
    with pytest.raises(ValueError, match="exactly one of `sitemap` or `start_url`"):
        _source({"type": "web"})


def test_pipeline_reflects_add_change_delete(
    site: Site, tmp_path: Path, fake_embedder: Any, tokenizer: Any
) -> None:
    """Pages flow to the index; the sensor sees edits and deletes, and they reach the index."""
    config = write_config(tmp_path, _crawl(site, max_depth=1))
    first = run_once(config, fake_embedder, tokenizer)
    assert _paths(site, list(first.texts)) == ["/", "/a.html", "/b.html"]
    assert changed(config) == []
    site.html("/a.html", "Alpha", "The alpha plan ships in June.")
    site.html("/", "Home", "Welcome.", ("/a.html", "/e.html"))
    site.html("/e.html", "Epsilon", "Epsilon is new.")
    assert changed(config) == ["docs"]
    second = run_once(config, fake_embedder, tokenizer)
    report = second.report
    assert _paths(site, report.added) == ["/e.html"]
    assert _paths(site, report.changed) == ["/", "/a.html"]
    assert _paths(site, report.deleted) == ["/b.html"]
    assert "June" in second.texts[f"{site.base}/a.html"]
    assert _paths(site, list(second.texts)) == ["/", "/a.html", "/e.html"]

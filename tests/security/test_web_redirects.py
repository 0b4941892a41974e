"""Redirects and sitemap entries cannot take a web crawl past its limits (SSRF).

Two real sites: the crawled one on 127.0.0.1 and "another host" on 127.0.0.2, each a threaded
http.server started here. Every redirect hop passes the rules a link passes (scheme, host
policy, the target host's robots.txt, max_redirects) and the address policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest.ingestion import ingest_source, list_source
from tests.ingest.connectors.site import Site, serving

REFUSED = {"FetchRefused", "AddressRefused", "TooManyRedirects"}


@pytest.fixture
def other() -> Iterator[Site]:
    """Another host (127.0.0.2): a secret page, and a robots.txt that disallows /private/."""
    site = Site()
    site.pages["/robots.txt"] = ("User-agent: *\nDisallow: /private/\n", "text/plain")
    site.html("/secret.html", "Secret", "Internal admin data.")
    site.html("/private/p.html", "Private", "Disallowed on the other host.")
    site.html("/open.html", "Open", "The other host's open page.")
    with serving(site, "127.0.0.2"):
        yield site


@pytest.fixture
def site() -> Iterator[Site]:
    """The crawled site (127.0.0.1): home → good pages and one hostile redirect at /jump."""
    site = Site()
    site.pages["/robots.txt"] = ("User-agent: *\nDisallow: /private/\n", "text/plain")
    site.html("/", "Home", "Welcome.", ("/good.html", "/jump", "/moved"))
    site.html("/good.html", "Good", "The good page is always indexed.")
    site.html("/new.html", "New", "The page under its new address.")
    site.html("/private/s.html", "Secret", "Not for crawlers.")
    site.redirect("/moved", "/new.html", 301)
    with serving(site):
        yield site


def _source(site: Site, **extra: Any) -> SourceConfig:
    connector = {"type": "web", "start_url": f"{site.base}/", "max_depth": 1, **extra}
    return SourceConfig.model_validate({"name": "web", "connector": connector})


def _paths(site: Site, ids: list[str]) -> list[str]:
    return sorted(i.removeprefix(site.base) for i in ids)


@pytest.mark.parametrize(
    ("location", "extra"),
    [
        ("{other}/secret.html", {}),  # another host, same_domain: true
        ("/private/s.html", {}),  # a path robots.txt disallows
        ("{other}/private/p.html", {"same_domain": False, "allow_private_networks": ["127.0.0.2"]}),
        ("{other}/secret.html", {"same_domain": False}),  # another internal address
        ("http://169.254.169.254/latest/meta-data/", {"same_domain": False}),
        (
            "http://169.254.169.254/latest/meta-data/",
            {"same_domain": False, "allow_private_networks": ["169.254.0.0/16"]},
        ),
        ("ftp://{host}/etc/passwd", {"same_domain": False}),
    ],
    ids=[
        "other-host",
        "robots-disallowed",
        "other-host-robots",
        "private-address",
        "link-local",
        "link-local-configured",
        "scheme",
    ],
)
def test_a_redirect_hop_passes_the_rules_a_link_passes(
    site: Site, other: Site, location: str, extra: dict[str, Any]
) -> None:
    """A 302 to another host, a disallowed path or a refused address was fetched and indexed."""
    site.redirect("/jump", location.format(other=other.base, host="127.0.0.1"))
    report = ingest_source(_source(site, **extra), {})
    assert _paths(site, [d.id for d in report.documents]) == ["/", "/good.html", "/new.html"]
    failure = next(f for f in report.failures if f.document_id.endswith("/jump"))
    assert failure.error_type in REFUSED, failure
    assert other.requests["/secret.html"] == other.requests["/private/p.html"] == 0
    assert site.requests["/private/s.html"] == 0
    if "allow_private_networks" not in extra and location.startswith("{other}"):
        assert sum(other.requests.values()) == 0  # not even its robots.txt: the address is refused


def test_an_allowed_redirect_reads_the_target_robots_and_indexes_the_final_url(
    site: Site, other: Site
) -> None:
    """A permitted hop to another host is checked against that host's robots.txt, and the page
    is indexed under its final URL (once, though two URLs reach it)."""
    site.redirect("/jump", f"{other.base}/open.html")
    source = _source(site, same_domain=False, allow_private_networks=["127.0.0.2/32"])
    listing = list_source(source)
    ids = sorted(i.id for i in listing.items)
    assert ids == sorted(
        [
            f"{site.base}/",
            f"{site.base}/good.html",
            f"{site.base}/new.html",
            f"{other.base}/open.html",
        ]
    )
    assert other.requests["/robots.txt"] == 1
    assert listing.failures == []


def test_too_many_redirects_is_a_failure(site: Site) -> None:
    """A redirect chain longer than max_redirects stops there, and the crawl goes on."""
    for hop in range(4):
        site.redirect(f"/r{hop}", f"/r{hop + 1}")
    site.redirect("/jump", "/r0")
    site.html("/r4", "End", "The chain's end.")
    listing = list_source(_source(site, max_redirects=3))
    failure = next(f for f in listing.failures if f.error_type == "TooManyRedirects")
    assert failure.document_id == f"{site.base}/r2"  # the last hop fetched
    assert site.requests["/r2"] == 1 and site.requests["/r3"] == 0
    assert f"{site.base}/good.html" in {i.id for i in listing.items}


def test_sitemap_entries_on_other_hosts_obey_host_policy_and_their_robots(
    site: Site, other: Site
) -> None:
    """Sitemap entries on another host were fetched, and its robots.txt never read."""
    locs = [f"{site.base}/good.html", f"{other.base}/open.html", f"{other.base}/private/p.html"]
    entries = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    site.pages["/sitemap.xml"] = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</urlset>",
        "application/xml",
    )
    sitemap = {"type": "web", "sitemap": f"{site.base}/sitemap.xml"}
    same = list_source(SourceConfig.model_validate({"name": "web", "connector": sitemap}))
    assert [i.id for i in same.items] == [f"{site.base}/good.html"]
    assert sum(other.requests.values()) == 0
    anywhere = {**sitemap, "same_domain": False, "allow_private_networks": ["127.0.0.2"]}
    listing = list_source(SourceConfig.model_validate({"name": "web", "connector": anywhere}))
    assert [i.id for i in listing.items] == [f"{site.base}/good.html", f"{other.base}/open.html"]
    assert other.requests["/robots.txt"] == 1 and other.requests["/private/p.html"] == 0

"""A web source's change check costs what the validators allow, and an ingest crawls once.

A real site on 127.0.0.1 (threaded http.server) with ETags; the change check and the ingest
go through the pipeline's own functions (`changed_sources`, `ingest`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag_pipelines.config import load_sources_file
from rag_pipelines.context import PipelineContext
from rag_pipelines.pipeline.build.changes import changed_sources
from rag_pipelines.pipeline.build.documents import ingest
from tests.ingest.connectors.flow import write_config
from tests.ingest.connectors.site import Site, serving

PAGES = ["/", "/a.html", "/b.html"]


@pytest.fixture
def site() -> Iterator[Site]:
    """Home → a, b."""
    site = Site()
    site.html("/", "Home", "Welcome.", ("/a.html", "/b.html"))
    site.html("/a.html", "Alpha", "The alpha plan ships in May.")
    site.html("/b.html", "Beta", "Beta is retired.")
    with serving(site):
        yield site


def _full(site: Site) -> Counter[str]:
    """Full answers (not 304s) per page so far."""
    return Counter({p: site.requests[p] - site.not_modified[p] for p in PAGES})


def test_the_change_check_costs_304s_and_an_ingest_crawls_once(site: Site, tmp_path: Path) -> None:
    """signature() re-crawled every page in full before each ingest, and again in the sensor."""
    config = write_config(tmp_path, {"type": "web", "start_url": f"{site.base}/", "max_depth": 1})
    ctx = PipelineContext(load_sources_file(config, env={}))
    ingest(ctx, "docs")
    assert _full(site) == Counter(dict.fromkeys(PAGES, 1))  # each page read once, not twice
    before = Counter(site.requests)
    assert changed_sources(ctx, {}) == []
    # the check: 304s only, plus the availability probe of the start URL (its body unread)
    assert _full(site) == Counter({"/": 2, "/a.html": 1, "/b.html": 1})
    assert all(site.not_modified[p] == 1 for p in PAGES)

    site.html("/a.html", "Alpha", "The alpha plan ships in June.")
    changes = changed_sources(ctx, {})
    assert [c.source for c in changes] == ["docs"]
    before = Counter(site.requests)
    report = ingest(ctx, "docs")
    assert report.changed == [f"{site.base}/a.html"]
    assert {p: site.requests[p] - before[p] for p in PAGES} == dict.fromkeys(PAGES, 1)
    assert site.not_modified["/b.html"] == 3  # unchanged: 304s in both checks and the ingest
    assert changed_sources(ctx, {}) == []  # the ingest's own signature is the check's

"""Web pages from a sitemap or a crawl from a start URL, parsed like files (HTML by unstructured).

robots.txt is honoured; pages are fetched with If-None-Match / If-Modified-Since from the last
run, so an unchanged page costs a 304 and is not parsed again. A page that answers 404 or 410,
or that is no longer reached, is deleted; any other error keeps its last good version.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from pydantic import Field, PrivateAttr, field_validator, model_validator

from rag_pipelines.config.connectors import ConnectorSettings
from rag_pipelines.hashing import sha256_bytes
from rag_pipelines.ingest.connectors.base import Listing, Scalar, SourceItem
from rag_pipelines.ingest.models import Document, IngestFailure

SUFFIXES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/pdf": ".pdf",
}
GONE = (404, 410)


class WebConnector(ConnectorSettings):
    """Pages listed by a sitemap, or reached from a start URL within depth and domain limits."""

    type: Literal["web"]
    sitemap: str | None = Field(None, description="URL of a sitemap.xml (its <loc> pages).")
    start_url: str | None = Field(None, description="Crawl from here, following links.")
    max_depth: int = Field(2, ge=0, le=10, description="Link hops from start_url.")
    max_pages: int = Field(500, ge=1, le=100_000)
    same_domain: bool = Field(True, description="Follow links to the start URL's host only.")
    user_agent: str = "rag-pipelines"
    timeout_s: float = Field(10.0, gt=0)
    fallback_encoding: str = "cp1252"
    _bodies: dict[str, tuple[bytes, str]] = PrivateAttr(default_factory=dict)

    @field_validator("sitemap", "start_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _one_entry(self) -> WebConnector:
        if (self.sitemap is None) == (self.start_url is None):
            raise ValueError("set exactly one of `sitemap` or `start_url`")
        return self

    def _client(self) -> Any:
        import httpx

        return httpx.Client(
            timeout=self.timeout_s,
            follow_redirects=True,
            headers={"User-Agent": self.user_agent},
        )

    def _robots(self, client: Any, url: str) -> RobotFileParser:
        """The site's robots.txt rules (none found: everything allowed)."""
        parts = urlsplit(url)
        robots = RobotFileParser()
        response = client.get(f"{parts.scheme}://{parts.netloc}/robots.txt")
        robots.parse(response.text.splitlines() if response.status_code == 200 else [])
        return robots

    def _sitemap_urls(self, client: Any) -> list[str]:
        from lxml import etree

        response = client.get(self.sitemap)
        response.raise_for_status()
        root = etree.fromstring(response.content, parser=etree.XMLParser(resolve_entities=False))
        return [str(loc.text).strip() for loc in root.iter("{*}loc") if loc.text]

    def list_documents(self, source: str, previous: Mapping[str, Document]) -> Listing:
        """Every page reached (or listed), fetched conditionally against the last run."""
        self._bodies.clear()
        entry = str(self.sitemap or self.start_url)
        items: list[SourceItem] = []
        failures: list[IngestFailure] = []
        with self._client() as client:
            try:
                robots = self._robots(client, entry)
                seeds = self._sitemap_urls(client) if self.sitemap else [entry]
            except Exception as exc:  # httpx and lxml errors: the site is not readable now
                reason = f"cannot read {entry}: {exc}"
                return Listing([], [_failure(source, entry, reason, exc)], [""])
            queue = deque((_normal(url), 0) for url in seeds)
            seen = {url for url, _ in queue}
            while queue and len(items) + len(failures) < self.max_pages:
                url, depth = queue.popleft()
                if not robots.can_fetch(self.user_agent, url):
                    continue
                try:
                    item, links = self._fetch(client, url, previous.get(url))
                except Exception as exc:  # one page failing keeps its last good version
                    failures.append(_failure(source, url, f"cannot fetch: {exc}", exc))
                    continue
                if item is None:
                    continue  # gone (404/410): deleted by its absence
                items.append(item)
                if self.start_url and depth < self.max_depth:
                    for link in links:
                        if link not in seen and self._follows(link):
                            seen.add(link)
                            queue.append((link, depth + 1))
        return Listing(items=items, failures=failures)

    def _follows(self, link: str) -> bool:
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https"):
            return False
        return not self.same_domain or parts.netloc == urlsplit(str(self.start_url)).netloc

    def _fetch(
        self, client: Any, url: str, old: Document | None
    ) -> tuple[SourceItem | None, list[str]]:
        """The page as an item and its links; (None, []) when it is gone."""
        headers: dict[str, str] = {}
        if old is not None and old.metadata.get("etag"):
            headers["If-None-Match"] = str(old.metadata["etag"])
        if old is not None and old.metadata.get("last_modified"):
            headers["If-Modified-Since"] = str(old.metadata["last_modified"])
        response = client.get(url, headers=headers)
        if response.status_code in GONE:
            return None, []
        if response.status_code == 304 and old is not None:
            item = SourceItem(
                id=url,
                uri=url,
                content_hash=old.content_hash,
                modified_at=old.modified_at,
                size_bytes=old.size_bytes,
                metadata=_validators(response.headers, old.metadata),
                fallback_encoding=self.fallback_encoding,
            )
            return item, [_normal(urljoin(url, link)) for link in old.links]
        response.raise_for_status()
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        suffix = SUFFIXES.get(kind)
        if suffix is None:
            raise ValueError(f"unsupported content type {kind or '(none)'!r}")
        body = response.content
        self._bodies[url] = (body, kind)
        links, title = _links_and_title(url, body) if suffix == ".html" else ([], None)
        item = SourceItem(
            id=url,
            uri=url,
            content_hash=sha256_bytes(body),
            modified_at=_http_time(response.headers.get("last-modified")),
            size_bytes=len(body),
            metadata=_validators(response.headers, {}),
            fallback_encoding=self.fallback_encoding,
            file_name=_file_name(url, suffix),
            title=title,
            links=tuple(links),
        )
        return item, links

    def signature(self) -> str:
        """sha256 of the sitemap; for a crawl, of each reached page's validators or body."""
        digest = hashlib.sha256()
        with self._client() as client:
            if self.sitemap:
                digest.update(client.get(self.sitemap).content)
                return digest.hexdigest()
        for item in self.list_documents("signature", {}).items:
            digest.update(f"{item.id}\0{item.content_hash}\n".encode())
        return digest.hexdigest()

    def open(self, item: SourceItem) -> bytes:
        """The page's body from this listing (fetched again if it is not held)."""
        held = self._bodies.pop(item.id, None)
        if held is not None:
            return held[0]
        with self._client() as client:
            response = client.get(item.id)
            response.raise_for_status()
            return bytes(response.content)

    def available(self) -> bool:
        """True if the sitemap or start URL answers."""
        try:
            with self._client() as client:
                return int(client.get(str(self.sitemap or self.start_url)).status_code) < 500
        except Exception:  # connection refused, DNS, timeout: httpx's own error types
            return False


def _normal(url: str) -> str:
    """The URL without its #fragment."""
    return urldefrag(url)[0]


def _links_and_title(base: str, body: bytes) -> tuple[list[str], str | None]:
    """Absolute link targets (href, without fragments) of an HTML page, and its <title>."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(body)
    except (ValueError, lxml.etree.ParserError):
        return [], None
    hrefs = (a.get("href") for a in tree.iter("a"))
    links = list(dict.fromkeys(_normal(urljoin(base, h)) for h in hrefs if h))
    title = " ".join((tree.findtext(".//title") or "").split())
    return links, title or None


def _file_name(url: str, suffix: str) -> str:
    """A file name for the parser: the last path segment, with the content type's extension."""
    name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or "index"
    return name if name.lower().endswith(suffix) else f"{name}{suffix}"


def _validators(
    headers: Mapping[str, str], old: Mapping[str, Any]
) -> dict[str, str | int | float | bool]:
    """The ETag and Last-Modified to send next time (a 304 may omit them: keep the old)."""
    found: dict[str, Scalar] = {}
    for key, header in (("etag", "etag"), ("last_modified", "last-modified")):
        value = headers.get(header) or old.get(key)
        if value:
            found[key] = str(value)
    return found


def _http_time(value: str | None) -> str | None:
    """ISO-8601 for an HTTP date."""
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).isoformat(timespec="seconds")
    except (TypeError, ValueError):
        return None


def _failure(source: str, url: str, reason: str, exc: Exception) -> IngestFailure:
    return IngestFailure(
        source=source, document_id=url, uri=url, reason=reason[:500], error_type=type(exc).__name__
    )

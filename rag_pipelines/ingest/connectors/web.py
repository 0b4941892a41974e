"""Web pages from a sitemap or a crawl from a start URL, parsed like files (HTML by unstructured).

Every GET goes through `ingest.http_fetch.Fetcher`: redirects are followed hop by hop, each hop
passing the rules a link passes (`ingest.crawl_rules.HostRules`: scheme, `same_domain`, the
target host's robots.txt, `max_redirects`) and the address policy (never a link-local address;
a loopback or private one only where the entry URL itself is, or inside
`allow_private_networks`). Bodies are capped at `max_file_mb` once decoded and each fetch has
one deadline, `timeout_s`. A page is indexed under its final URL.

Pages are fetched with If-None-Match / If-Modified-Since from the last run, so an unchanged page
costs a 304 and is not parsed again. A page that answers 404 or 410, or that is no longer
reached, is deleted; any other error (a refused redirect, TooLarge, FetchTimeout) keeps its
last good version and the crawl goes on.
"""

from __future__ import annotations

import codecs
import hashlib
import ipaddress
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Literal
from urllib.parse import urldefrag, urljoin, urlsplit

from pydantic import Field, PrivateAttr, field_validator, model_validator

from rag_pipelines.config.connectors import ConnectorSettings
from rag_pipelines.hashing import sha256_bytes
from rag_pipelines.ingest.connectors.base import Listing, Scalar, SourceItem
from rag_pipelines.ingest.crawl_rules import MAX_ROBOTS_BYTES, HostRules, http_refusal
from rag_pipelines.ingest.http_fetch import Fetcher, FetchPolicy, HttpError, own_networks
from rag_pipelines.ingest.models import Document, IngestFailure

MB = 1024 * 1024
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

    type: Literal["web"] = Field(description="web: pages of a site (crawl or sitemap).")
    sitemap: str | None = Field(None, description="URL of a sitemap.xml (its <loc> pages).")
    start_url: str | None = Field(None, description="Crawl from here, following links.")
    max_depth: int = Field(2, ge=0, le=10, description="Link hops from start_url.")
    max_pages: int = Field(500, ge=1, le=100_000, description="Stop after this many pages.")
    same_domain: bool = Field(
        True,
        description="Fetch from the start URL's (or sitemap's) host only: links, "
        "sitemap entries and redirect hops.",
    )
    user_agent: str = Field(
        "rag-pipelines", description="User-Agent sent; robots.txt rules for it are honoured."
    )
    timeout_s: float = Field(
        10.0, gt=0, description="Deadline of one fetch: connect, redirects, headers and body."
    )
    max_file_mb: float = Field(
        50.0, gt=0, description="Bytes one page may have once decoded (gzip, deflate): TooLarge."
    )
    max_redirects: int = Field(5, ge=0, le=20, description="Redirect hops one fetch may follow.")
    allow_private_networks: list[str] = Field(
        default_factory=list,
        description="Loopback or private networks (CIDR) the crawl may reach besides the "
        "entry URL's own address; link-local addresses are never fetched.",
    )
    fallback_encoding: str = Field(
        "cp1252", description="Codec of pages that declare none and are not UTF-8."
    )
    _bodies: dict[str, bytes] = PrivateAttr(default_factory=dict)

    @field_validator("sitemap", "start_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("allow_private_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not a network (e.g. 10.0.0.0/8)") from None
        return value

    @model_validator(mode="after")
    def _one_entry(self) -> WebConnector:
        if (self.sitemap is None) == (self.start_url is None):
            raise ValueError("set exactly one of `sitemap` or `start_url`")
        return self

    def _entry(self) -> str:
        return str(self.sitemap or self.start_url)

    def _policy(self) -> FetchPolicy:
        configured = (ipaddress.ip_network(n, strict=False) for n in self.allow_private_networks)
        return FetchPolicy(
            max_bytes=int(self.max_file_mb * MB),
            deadline_s=self.timeout_s,
            max_redirects=self.max_redirects,
            private_networks=own_networks(self._entry()) + tuple(configured),
            user_agent=self.user_agent,
        )

    @contextmanager
    def _session(self) -> Iterator[tuple[Fetcher, HostRules]]:
        """A fetcher for pages under the crawl's rules, and the rules (robots.txt read once)."""
        policy = self._policy()
        scope = urlsplit(self._entry()).netloc if self.same_domain else None
        robots_policy = replace(policy, max_bytes=MAX_ROBOTS_BYTES)
        with Fetcher(robots_policy, http_refusal) as robots:
            rules = HostRules(scope, self.user_agent, robots)
            with Fetcher(policy, rules.refusal) as pages:
                yield pages, rules

    def _sitemap_urls(self, pages: Fetcher) -> list[str]:
        from lxml import etree

        fetched = pages.get(str(self.sitemap))
        if not 200 <= fetched.status < 300:
            raise HttpError(f"{fetched.url} answered {fetched.status}")
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        root = etree.fromstring(fetched.body, parser=parser)
        return [str(loc.text).strip() for loc in root.iter("{*}loc") if loc.text]

    def list_documents(self, source: str, previous: Mapping[str, Document]) -> Listing:
        """Every page reached (or listed), fetched conditionally against the last run."""
        return self._crawl(source, previous, keep_bodies=True)

    def _crawl(self, source: str, previous: Mapping[str, Document], keep_bodies: bool) -> Listing:
        self._bodies.clear()
        entry = self._entry()
        items: list[SourceItem] = []
        failures: list[IngestFailure] = []
        with self._session() as (pages, rules):
            try:
                rules.robots(entry)  # the site's own robots.txt must be readable
                seeds = self._sitemap_urls(pages) if self.sitemap else [entry]
            except Exception as exc:  # fetch, robots and lxml errors: not readable now
                reason = f"cannot read {entry}: {exc}"
                return Listing([], [_failure(source, entry, reason, exc)], [""])
            queue = deque((_normal(url), 0) for url in seeds)
            seen = {url for url, _ in queue}
            done: set[str] = set()
            while queue and len(items) + len(failures) < self.max_pages:
                url, depth = queue.popleft()
                if rules.refusal(url) is not None:
                    continue  # another host, or robots.txt disallows it: not part of the source
                try:
                    item, links = self._fetch(pages, url, previous, keep_bodies)
                except Exception as exc:  # one page failing keeps its last good version
                    where = pages.last_url or url
                    if where not in done:
                        done.add(where)
                        failures.append(_failure(source, where, f"cannot fetch {url}: {exc}", exc))
                    continue
                if item is None or item.id in done:
                    continue  # gone (404/410, deleted by its absence), or reached before
                done.add(item.id)
                items.append(item)
                if self.start_url and depth < self.max_depth:
                    for link in links:
                        if link not in seen:
                            seen.add(link)
                            queue.append((link, depth + 1))
        return Listing(items=items, failures=failures, signature=_signature(items, failures))

    def _fetch(
        self, pages: Fetcher, url: str, previous: Mapping[str, Document], keep_body: bool
    ) -> tuple[SourceItem | None, list[str]]:
        """The page as an item (under its final URL) and its links; (None, []) when gone."""
        fetched = pages.get(url, conditional=lambda hop: _conditional(previous.get(hop)))
        final = fetched.url
        if fetched.status in GONE:
            return None, []
        old = previous.get(final)
        if fetched.status == 304 and old is not None:
            item = SourceItem(
                id=final,
                uri=final,
                content_hash=old.content_hash,
                modified_at=old.modified_at,
                size_bytes=old.size_bytes,
                metadata=_validators(fetched.headers, old.metadata),
                fallback_encoding=self.fallback_encoding,
            )
            return item, [_normal(urljoin(final, link)) for link in old.links]
        if not 200 <= fetched.status < 300:
            raise HttpError(f"{final} answered {fetched.status}")
        kind, charset = _content_type(fetched.headers.get("content-type", ""))
        suffix = SUFFIXES.get(kind)
        if suffix is None:
            raise ValueError(f"unsupported content type {kind or '(none)'!r}")
        body = fetched.body
        if keep_body:
            self._bodies[final] = body
        html = suffix == ".html"
        links, title = _links_and_title(final, body, charset) if html else ([], None)
        item = SourceItem(
            id=final,
            uri=final,
            content_hash=sha256_bytes(body),
            modified_at=_http_time(fetched.headers.get("last-modified")),
            size_bytes=len(body),
            metadata=_validators(fetched.headers, {}),
            fallback_encoding=self.fallback_encoding,
            file_name=_file_name(final, suffix),
            title=title,
            links=tuple(links),
            encoding=charset,
        )
        return item, links

    def signature(self) -> str:
        """sha256 of what a crawl reaches: each page's id and content hash, each failure."""
        digest = hashlib.sha256()
        for item in self._crawl("signature", {}, keep_bodies=False).items:
            digest.update(f"{item.id}\0{item.content_hash}\n".encode())
        return digest.hexdigest()

    def open(self, item: SourceItem) -> bytes:
        """The page's body from this listing (fetched again, under the same rules, if not held)."""
        held = self._bodies.pop(item.id, None)
        if held is not None:
            return held
        with self._session() as (pages, _):
            fetched = pages.get(item.id)
        if not 200 <= fetched.status < 300:
            raise HttpError(f"{fetched.url} answered {fetched.status}")
        return fetched.body

    def available(self) -> bool:
        """True if the sitemap or start URL answers (its body is not read)."""
        try:
            with Fetcher(self._policy(), http_refusal) as fetcher:
                return fetcher.get(self._entry(), read_body=False, follow=False).status < 500
        except Exception:  # refused, connection refused, DNS, timeout
            return False


def _normal(url: str) -> str:
    """The URL without its #fragment."""
    return urldefrag(url)[0]


def _links_and_title(
    base: str, body: bytes, charset: str | None = None
) -> tuple[list[str], str | None]:
    """Absolute link targets (href, without fragments) of an HTML page, and its <title>."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(body, parser=lxml.html.HTMLParser(encoding=charset))
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


def _content_type(header: str) -> tuple[str, str | None]:
    """The media type and its charset parameter (None when absent or not a known codec)."""
    from email.message import Message

    message = Message()
    message["content-type"] = header
    charset = message.get_content_charset()
    try:
        charset = codecs.lookup(charset).name if charset else None
    except LookupError:
        charset = None  # an unknown charset: the page's own declaration and the fallbacks decide
    return header.split(";")[0].strip().lower(), charset


def _conditional(old: Document | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the last run's version of a URL."""
    headers: dict[str, str] = {}
    if old is not None and old.metadata.get("etag"):
        headers["If-None-Match"] = str(old.metadata["etag"])
    if old is not None and old.metadata.get("last_modified"):
        headers["If-Modified-Since"] = str(old.metadata["last_modified"])
    return headers


def _signature(items: list[SourceItem], failures: list[IngestFailure]) -> str:
    """sha256 of a listing: each page's id and content hash, each failure's id and type."""
    lines = [f"{i.id}\0{i.content_hash}" for i in items]
    lines += [f"{f.document_id}\0!{f.error_type}" for f in failures]
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


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

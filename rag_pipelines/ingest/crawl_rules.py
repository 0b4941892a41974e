"""Where a crawl may go: the scheme, the host policy and each host's robots.txt.

A link, a sitemap entry and every redirect hop pass the same `HostRules.refusal`. robots.txt
is read once per host (scheme and port included) through a bounded fetcher, as RFC 9309 says:
a 2xx is parsed, a 4xx means no rules (everything allowed), and a 5xx or a failed fetch means
the host's pages may not be fetched now (they keep their last good version).
"""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from rag_pipelines.ingest.http_fetch import Fetcher

MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309: a crawler must read at least 500 KiB


class RobotsUnreadable(OSError):
    """A host's robots.txt answered 5xx or could not be fetched: its pages are not fetched now."""


def http_refusal(url: str) -> str | None:
    """Why a URL is not crawlable at all (not http or https), or None."""
    if urlsplit(url).scheme not in ("http", "https"):
        return "not an http(s) URL"
    return None


class HostRules:
    """The rules a URL must pass to be fetched: scheme, host scope, the host's robots.txt.

    `scope` is the one `host[:port]` allowed (same_domain), or None for any host.
    `robots_fetcher` reads robots.txt files; it must not itself consult these rules.
    """

    def __init__(self, scope: str | None, user_agent: str, robots_fetcher: Fetcher) -> None:
        self.scope = scope
        self.user_agent = user_agent
        self._fetcher = robots_fetcher
        self._robots: dict[str, RobotFileParser | RobotsUnreadable] = {}

    def refusal(self, url: str) -> str | None:
        """Why `url` may not be fetched, or None when it may."""
        reason = http_refusal(url)
        if reason is not None:
            return reason
        netloc = urlsplit(url).netloc
        if self.scope is not None and netloc != self.scope:
            return f"{netloc} is not the crawl's host {self.scope} (same_domain: true)"
        try:
            robots = self.robots(url)
        except RobotsUnreadable as exc:
            return str(exc)
        if not robots.can_fetch(self.user_agent, url):
            return f"robots.txt of {netloc} disallows it"
        return None

    def robots(self, url: str) -> RobotFileParser:
        """The robots.txt rules of `url`'s host (read once); RobotsUnreadable if there are none."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self._robots:
            try:
                self._robots[key] = self._read(f"{key}/robots.txt")
            except RobotsUnreadable as exc:
                self._robots[key] = exc
        found = self._robots[key]
        if isinstance(found, RobotsUnreadable):
            raise found
        return found

    def _read(self, robots_url: str) -> RobotFileParser:
        try:
            fetched = self._fetcher.get(robots_url)
        except Exception as exc:  # refused, too large, timed out, connection failed
            raise RobotsUnreadable(f"cannot read {robots_url}: {exc}") from exc
        parser = RobotFileParser()
        if 200 <= fetched.status < 300:
            parser.parse(fetched.body.decode("utf-8", errors="replace").splitlines())
        elif 400 <= fetched.status < 500:
            parser.parse([])
        else:
            raise RobotsUnreadable(f"{robots_url} answered {fetched.status}; retried next run")
        return parser

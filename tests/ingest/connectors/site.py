"""A small web site on loopback (http.server) with ETags, 304s, a robots.txt, redirects, and
custom responders for hostile answers (bombs, drips, odd charsets)."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Site:
    """Pages by path (body, content type); what was asked for and how it was answered."""

    pages: dict[str, tuple[str, str]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    not_modified: Counter[str] = field(default_factory=Counter)
    redirects: dict[str, tuple[int, str]] = field(default_factory=dict)
    responders: dict[str, Callable[[BaseHTTPRequestHandler], None]] = field(default_factory=dict)
    base: str = ""

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        """Answer `path` with a redirect to `location`."""
        self.redirects[path] = (status, location)

    def respond(self, path: str, responder: Callable[[BaseHTTPRequestHandler], None]) -> None:
        """Answer `path` with `responder(handler)`, which writes the whole response."""
        self.responders[path] = responder

    def html(self, path: str, title: str, body: str, links: tuple[str, ...] = ()) -> None:
        """Publish (or replace) an HTML page linking to `links`."""
        anchors = "".join(f'<p><a href="{link}">{link}</a></p>' for link in links)
        page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{body}</p>"
        self.pages[path] = (f"{page}{anchors}</body></html>", "text/html; charset=utf-8")


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            site.requests[path] += 1
            if path in site.redirects:
                status, location = site.redirects[path]
                self.send_response(status)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if path in site.responders:
                site.responders[path](self)
                return
            page = site.pages.get(path)
            if page is None:
                self.send_error(404)
                return
            body = page[0].encode()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                site.not_modified[path] += 1
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", page[1])
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    return Handler


@contextmanager
def serving(site: Site, host: str = "127.0.0.1") -> Iterator[Site]:
    """Serve `site` on a free port of `host` (a loopback address) for the block."""
    server = ThreadingHTTPServer((host, 0), _handler(site))
    server.daemon_threads = True
    site.base = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

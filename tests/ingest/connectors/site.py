"""A small web site on 127.0.0.1 (http.server) with ETags, 304s and a robots.txt."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Site:
    """Pages by path (body, content type); what was asked for and how it was answered."""

    pages: dict[str, tuple[str, str]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    not_modified: Counter[str] = field(default_factory=Counter)
    base: str = ""

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
def serving(site: Site) -> Iterator[Site]:
    """Serve `site` on a free port of 127.0.0.1 for the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

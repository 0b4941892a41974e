"""A tiny HTTP server on 127.0.0.1 that speaks just enough of Qdrant's REST API and records
every request qdrant-client sends, so tests can assert the exact calls and bodies."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    """One recorded request: method, path (no query), query string and JSON body."""

    method: str
    path: str
    query: str
    body: Any


class QdrantState:
    """What the fake server remembers: collections, their point ids, aliases, status answers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.collections: dict[str, set[Any]] = {}
        self.aliases: dict[str, str] = {}
        self.statuses: list[str] = []  # answered by GET /collections/{name}, then "green"

    def calls(self, method: str | None = None, pattern: str = "") -> list[Request]:
        """Recorded requests, optionally of one method and a path matching a regex."""
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and re.search(pattern, r.path)
            ]


def _collection_info(status: str) -> dict[str, Any]:
    return {
        "status": status,
        "optimizer_status": "ok",
        "segments_count": 1,
        "payload_schema": {},
        "config": {
            "params": {},
            "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000},
            "optimizer_config": {"default_segment_number": 0, "flush_interval_sec": 5},
        },
    }


_COLLECTION = re.compile(r"^/collections/([^/]+)(/.*)?$")


def _answer(state: QdrantState, method: str, path: str, body: Any) -> Any:
    """The `result` of a request, updating the state."""
    updated = {"operation_id": 0, "status": "completed"}
    if path == "/":
        return None
    if path == "/aliases":
        return {
            "aliases": [{"alias_name": a, "collection_name": c} for a, c in state.aliases.items()]
        }
    if path == "/collections" and method == "GET":
        return {"collections": [{"name": n} for n in state.collections]}
    if path == "/collections/aliases":
        for action in body["actions"]:
            if "delete_alias" in action:
                state.aliases.pop(action["delete_alias"]["alias_name"], None)
            if "create_alias" in action:
                create = action["create_alias"]
                state.aliases[create["alias_name"]] = create["collection_name"]
        return True
    match = _COLLECTION.match(path)
    if match is None:
        raise KeyError(path)
    name, rest = match.group(1), match.group(2) or ""
    if rest == "/exists":
        return {"exists": name in state.collections}
    if rest == "" and method == "PUT":
        state.collections[name] = set()
        return True
    if rest == "" and method == "DELETE":
        return state.collections.pop(name, None) is not None
    if rest == "" and method == "PATCH":
        return True
    if rest == "" and method == "GET":
        return _collection_info(state.statuses.pop(0) if state.statuses else "green")
    if rest == "/index":
        return updated
    if rest == "/points" and method == "PUT":
        state.collections[name].update(p["id"] for p in body["points"])
        return updated
    if rest == "/points/count":
        return {"count": len(state.collections[name])}
    if rest == "/points/query":
        return {"points": []}
    raise KeyError(path)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        url = urlsplit(self.path)
        state = self.server.state
        with state.lock:
            state.requests.append(Request(self.command, url.path, url.query, body))
            try:
                result: Any = _answer(state, self.command, url.path, body)
                code = 200
            except KeyError as exc:
                result, code = {"error": f"not handled: {exc}"}, 404
        if url.path == "/":
            payload: Any = {"title": "qdrant - vector search engine", "version": "1.20.0"}
        else:
            payload = {"result": result, "status": "ok", "time": 0.0}
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: QdrantState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@contextmanager
def recording_qdrant() -> Iterator[tuple[str, QdrantState]]:
    """A recording fake Qdrant on a free loopback port: (url, state)."""
    state = QdrantState()
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

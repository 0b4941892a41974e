"""Prometheus metrics of the service."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """Request counts, search latency per mode, and the served version."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rag_http_requests_total",
            "HTTP requests by route and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.search_latency = Histogram(
            "rag_search_latency_seconds",
            "Search latency by retrieval mode (reranked searches separately).",
            ["mode", "reranked"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.served_version = Gauge(
            "rag_index_version_info",
            "1 for the index version being served.",
            ["version"],
            registry=self.registry,
        )
        self._version: str | None = None

    def serving(self, version: str | None) -> None:
        """Record which version answers queries now."""
        if version == self._version:
            return
        if self._version is not None:
            self.served_version.remove(self._version)
        if version is not None:
            self.served_version.labels(version=version).set(1)
        self._version = version


class RequestCounter:
    """ASGI middleware: count each HTTP request by route template, method and status."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; count it once its response has started (500 if it never did)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def noted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noted)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route=path, method=scope["method"], status=status).inc()

"""Prometheus metrics of the service."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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

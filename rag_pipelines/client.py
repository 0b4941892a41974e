"""A small typed client for the index service."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from rag_pipelines.retrieval.models import Mode, SearchResponse
from rag_pipelines.service.schemas import DocumentResponse, IndexResponse


class ServiceError(RuntimeError):
    """The service answered with an error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.code = str(body.get("error", "error"))
        self.details = body.get("details", [])
        self.request_id = body.get("request_id")
        super().__init__(f"{status} {self.code}: {body.get('message', '')}")


class RagClient:
    """Talk to `rag-pipelines serve` from a downstream application.

    `api_key` is sent as a bearer token; the service needs one once `service.auth` is set.
    """

    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s)

    def __enter__(self) -> RagClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def search(
        self,
        query: str,
        top_k: int = 10,
        mode: Mode | None = None,
        rerank: bool | None = None,
        sources: list[str] | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, str | int | bool] | None = None,
    ) -> SearchResponse:
        """Search the published index; an invalid request is the service's 422 (ServiceError)."""
        # The service validates (one source of truth for limits): a pydantic error raised here
        # would bypass ServiceError and reject what a newer service accepts.
        request: dict[str, Any] = {"query": query, "top_k": top_k, "mode": mode, "rerank": rerank}
        request["filters"] = {
            "sources": sources or [],
            "tags": tags or [],
            "metadata": metadata or {},
        }
        body = {k: v for k, v in request.items() if v is not None}
        return SearchResponse.model_validate(self._call("POST", "/v1/search", json=body))

    def document(self, source: str, document_id: str) -> DocumentResponse:
        """A document of the published version."""
        return DocumentResponse.model_validate(
            self._call("GET", f"/v1/documents/{quote(source, safe='')}/{quote(document_id)}")
        )

    def index(self) -> IndexResponse:
        """The published manifest."""
        return IndexResponse.model_validate(self._call("GET", "/v1/index"))

    def ready(self) -> bool:
        """Whether the service can answer queries."""
        return self._http.get("/readyz").status_code == 200

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"message": response.text}
            raise ServiceError(response.status_code, body)
        return response.json()

"""Typed clients for the index service: RagClient (sync) and AsyncRagClient (asyncio)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from rag_pipelines.feedback.store import FeedbackRecord
from rag_pipelines.lineage import Lineage
from rag_pipelines.retrieval.models import Mode, SearchResponse
from rag_pipelines.service.schemas import DocumentResponse, IndexResponse

Metadata = dict[str, str | int | bool]


class ServiceError(RuntimeError):
    """The service answered with an error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.code = str(body.get("error", "error"))
        self.details = body.get("details", [])
        self.request_id = body.get("request_id")
        super().__init__(f"{status} {self.code}: {body.get('message', '')}")


def search_body(
    query: str,
    top_k: int = 10,
    mode: Mode | None = None,
    rerank: bool | None = None,
    sources: list[str] | None = None,
    tags: list[str] | None = None,
    metadata: Metadata | None = None,
    offset: int = 0,
    min_score: float | None = None,
) -> dict[str, Any]:
    """The JSON body of POST /v1/search; unset options are left to the service's defaults."""
    # The service validates (one source of truth for limits): a pydantic error raised here
    # would bypass ServiceError and reject what a newer service accepts.
    request: dict[str, Any] = {
        "query": query,
        "top_k": top_k,
        "mode": mode,
        "rerank": rerank,
        "offset": offset or None,
        "min_score": min_score,
        "filters": {"sources": sources or [], "tags": tags or [], "metadata": metadata or {}},
    }
    return {k: v for k, v in request.items() if v is not None}


def feedback_body(query: str, chunk_id: str, useful: bool, note: str | None) -> dict[str, Any]:
    """The JSON body of POST /v1/feedback."""
    body: dict[str, Any] = {"query": query, "chunk_id": chunk_id, "useful": useful}
    return body | ({"note": note} if note is not None else {})


def document_path(source: str, document_id: str) -> str:
    """GET path of a document; the id is quoted ('#', '%', spaces)."""
    return f"/v1/documents/{quote(source, safe='')}/{quote(document_id)}"


def lineage_path(chunk_id: str, version: str | None) -> str:
    """GET path of a chunk's lineage (in `version`, default the published one)."""
    return f"/v1/chunks/{quote(chunk_id, safe='')}/lineage" + (
        f"?version={quote(version, safe='')}" if version else ""
    )


def _parsed(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text}
        raise ServiceError(response.status_code, body)
    return response.json()


def _headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class RagClient:
    """Talk to `rag-pipelines serve` from a downstream application.

    `api_key` is sent as a bearer token; the service needs one once `service.auth` is set.
    """

    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = 30.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=_headers(api_key), timeout=timeout_s
        )

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
        metadata: Metadata | None = None,
        offset: int = 0,
        min_score: float | None = None,
    ) -> SearchResponse:
        """Search the published index; page with `offset=response.next_offset`.

        An invalid request is the service's 422 and an unknown source its 400 (ServiceError).
        """
        body = search_body(query, top_k, mode, rerank, sources, tags, metadata, offset, min_score)
        return SearchResponse.model_validate(self._call("POST", "/v1/search", json=body))

    def document(self, source: str, document_id: str) -> DocumentResponse:
        """A document of the published version."""
        return DocumentResponse.model_validate(
            self._call("GET", document_path(source, document_id))
        )

    def lineage(self, chunk_id: str, version: str | None = None) -> Lineage:
        """Where a chunk came from: document, source version, index version, model."""
        return Lineage.model_validate(self._call("GET", lineage_path(chunk_id, version)))

    def feedback(
        self, query: str, chunk_id: str, useful: bool, note: str | None = None
    ) -> FeedbackRecord:
        """Record whether a hit was useful for a query (it feeds the golden set)."""
        body = feedback_body(query, chunk_id, useful, note)
        return FeedbackRecord.model_validate(self._call("POST", "/v1/feedback", json=body))

    def index(self) -> IndexResponse:
        """The published manifest."""
        return IndexResponse.model_validate(self._call("GET", "/v1/index"))

    def ready(self) -> bool:
        """Whether the service can answer queries."""
        return self._http.get("/readyz").status_code == 200

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return _parsed(self._http.request(method, path, **kwargs))


class AsyncRagClient:
    """RagClient for asyncio applications (httpx.AsyncClient); the same methods, awaited."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = 30.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=_headers(api_key), timeout=timeout_s
        )

    async def __aenter__(self) -> AsyncRagClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def search(
        self,
        query: str,
        top_k: int = 10,
        mode: Mode | None = None,
        rerank: bool | None = None,
        sources: list[str] | None = None,
        tags: list[str] | None = None,
        metadata: Metadata | None = None,
        offset: int = 0,
        min_score: float | None = None,
    ) -> SearchResponse:
        """Search the published index (see RagClient.search)."""
        body = search_body(query, top_k, mode, rerank, sources, tags, metadata, offset, min_score)
        return SearchResponse.model_validate(await self._call("POST", "/v1/search", json=body))

    async def document(self, source: str, document_id: str) -> DocumentResponse:
        """A document of the published version."""
        path = document_path(source, document_id)
        return DocumentResponse.model_validate(await self._call("GET", path))

    async def lineage(self, chunk_id: str, version: str | None = None) -> Lineage:
        """Where a chunk came from: document, source version, index version, model."""
        return Lineage.model_validate(await self._call("GET", lineage_path(chunk_id, version)))

    async def feedback(
        self, query: str, chunk_id: str, useful: bool, note: str | None = None
    ) -> FeedbackRecord:
        """Record whether a hit was useful for a query."""
        body = feedback_body(query, chunk_id, useful, note)
        return FeedbackRecord.model_validate(await self._call("POST", "/v1/feedback", json=body))

    async def index(self) -> IndexResponse:
        """The published manifest."""
        return IndexResponse.model_validate(await self._call("GET", "/v1/index"))

    async def ready(self) -> bool:
        """Whether the service can answer queries."""
        return (await self._http.get("/readyz")).status_code == 200

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return _parsed(await self._http.request(method, path, **kwargs))

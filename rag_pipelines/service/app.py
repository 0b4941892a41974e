"""The HTTP service over the published index: search, documents, manifest, health, metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag_pipelines import __version__
from rag_pipelines.config import default_sources_path, load_sources_file
from rag_pipelines.context import PipelineContext
from rag_pipelines.errors import IndexNotFoundError, RagPipelinesError, UnknownSourceError
from rag_pipelines.feedback.store import FeedbackRecord, FeedbackStore
from rag_pipelines.index.layout import CHUNKS, DOCUMENTS
from rag_pipelines.index.versions import utc_now
from rag_pipelines.lineage import ChunkNotFound, Lineage, chunk_lineage
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.live import LiveIndex
from rag_pipelines.retrieval.lookup import SnapshotLookup
from rag_pipelines.retrieval.models import SearchResponse
from rag_pipelines.retrieval.paging import (
    MAX_OFFSET,
    depth_for,
    page_of,
    require_known_sources,
)
from rag_pipelines.service.client_address import trusted_networks
from rag_pipelines.service.docs import add_offline_docs
from rag_pipelines.service.errors import error_response, invalid_field
from rag_pipelines.service.guard import Guard, current_principal
from rag_pipelines.service.keys import KeyStore, Principal
from rag_pipelines.service.manifest_view import manifest_for
from rag_pipelines.service.metrics import RequestCounter, ServiceMetrics
from rag_pipelines.service.rate_limit import RateLimiter
from rag_pipelines.service.routes import register_convertors
from rag_pipelines.service.schemas import (
    FEEDBACK_EXAMPLES,
    SEARCH_EXAMPLES,
    ChunkRef,
    DocumentResponse,
    ErrorResponse,
    FeedbackRequest,
    IndexResponse,
    SearchRequest,
)
from rag_pipelines.service.security import key_schemes

log = logging.getLogger(__name__)
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing or invalid API key"},
    422: {"model": ErrorResponse, "description": "Invalid request"},
    429: {"model": ErrorResponse, "description": "Rate limit exceeded; see Retry-After"},
    503: {"model": ErrorResponse, "description": "No index published yet"},
}
VERSION_PATTERN = r"^v\d{8}T\d{6}-\d{6}$"
Caller = Annotated[Principal, Depends(current_principal)]


def create_app(ctx: PipelineContext, live: LiveIndex | None = None, poll_s: float = 1.0) -> FastAPI:
    """The service for one pipeline; `live` follows its published version.

    With `service.auth` configured every route but the probes needs an API key; without it
    callers are anonymous and read only public documents.
    """
    live = live or LiveIndex(ctx)
    metrics = ServiceMetrics()
    settings = ctx.config.service
    keys = KeyStore.load(settings.auth) if settings.auth is not None else None
    if keys is None:
        log.warning("service.auth is not configured: no API key is needed; public documents only")
    limits = settings.rate_limit
    limiter = RateLimiter(limits.rate_per_s, limits.burst) if limits.enabled else None
    failures = RateLimiter(limits.failed_auth_per_s, limits.failed_auth_burst)
    register_convertors()
    keyed = key_schemes(keys is not None)  # declares the schemes; the Guard does the checking

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            live.refresh()
        except IndexNotFoundError:
            log.warning("no index published yet; /readyz stays 503 until one is")
        live.start(poll_s)
        yield
        live.stop()
        feedback_store.close()

    app = FastAPI(
        title="rag-pipelines index service",
        version=__version__,
        description="Hybrid retrieval (dense, BM25, graph; RRF; cross-encoder) over the "
        "published, quality-gated index version, with provenance on every hit.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    add_offline_docs(app, app.title)
    app.state.live = live
    app.state.metrics = metrics
    # Added first: inside the request counter (Starlette wraps later middleware around it).
    proxies = trusted_networks(settings.trusted_proxies)
    app.add_middleware(Guard, keys=keys, limiter=limiter, failures=failures, proxies=proxies)
    app.add_middleware(RequestCounter, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [invalid_field(e) for e in exc.errors()]
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return error_response(422, "invalid_request", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(IndexNotFoundError)
    async def no_index(_: Request, exc: IndexNotFoundError) -> JSONResponse:
        return error_response(503, "no_index", str(exc))

    @app.exception_handler(RagPipelinesError)
    async def user_error(_: Request, exc: RagPipelinesError) -> JSONResponse:
        return error_response(400, "bad_request", str(exc))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        # Runs outside the guard: the id comes from the request's state, not the context.
        request_id = getattr(request.state, "request_id", None)
        log.exception("unhandled error in request %s", request_id)
        message = "internal error; quote the request id to the operators"
        headers = {"X-Request-ID": request_id} if request_id else None
        return error_response(
            500, "internal_error", message, headers=headers, request_id=request_id
        )

    @app.post(
        "/v1/search",
        response_model=SearchResponse,
        responses={400: {"model": ErrorResponse, "description": "Unknown source"}, **ERRORS},
        tags=["search"],
        dependencies=keyed,
    )
    async def search(
        body: Annotated[SearchRequest, Body(openapi_examples=SEARCH_EXAMPLES)], caller: Caller
    ) -> Response:
        """Ranked chunks the caller may read, with per-leg ranks and provenance, one version.

        Page with `offset` (the response's `next_offset`); `min_score` drops weak hits.
        """
        # A search without reranking is a few ms of work that holds the GIL or both cores:
        # it runs on the event loop, skipping two thread hand-offs (each a wake-up of an idle
        # core; HTTP overhead p50 2.2-2.5 -> 1.6-2.0 ms for hybrid, bench_http.py). Reranking
        # (a cross-encoder, up to its budget) and a first load of the index go to a thread.
        # Whether it reranks is read off the version acquired, so a version switching to
        # reranking by default meanwhile cannot put a reranked search on the event loop.
        if live.version is None:
            return await run_in_threadpool(run_search, body, caller)
        started = time.perf_counter()
        with live.acquire() as index:
            reranks = index.reranker is not None and (
                body.rerank or (body.rerank is None and index.rerank_default)
            )
            if reranks:
                return await run_in_threadpool(search_on, index, body, caller, started)
            return search_on(index, body, caller, started)

    def run_search(body: SearchRequest, caller: Principal) -> Response:
        """The search route's work on the version served when it starts (see `search`)."""
        started = time.perf_counter()
        with live.acquire() as index:
            return search_on(index, body, caller, started)

    def search_on(
        index: VersionIndex, body: SearchRequest, caller: Principal, started: float
    ) -> Response:
        """One search on an acquired version: the response, serialized once."""
        mode = body.mode or ctx.config.retrieval.default_mode
        if body.filters.sources:
            # Only sources the caller can read count as known: others are not confirmed.
            visible = manifest_for(index.manifest, index.lookup, caller.readers)["sources"]
            try:
                require_known_sources(body.filters.sources, visible)
            except UnknownSourceError as exc:
                detail = {"field": "filters.sources", "message": str(exc)}
                return error_response(400, "unknown_source", str(exc), [detail])
        response = index.search(
            body.query,
            depth_for(body.offset, body.top_k),
            mode,
            body.rerank,
            body.filters.to_payload_filter(),
            readers=caller.readers,
        )
        response = page_of(response, body.offset, body.top_k, body.min_score, MAX_OFFSET)
        metrics.search_latency.labels(mode=mode, reranked=str(response.reranked).lower()).observe(
            time.perf_counter() - started
        )
        metrics.serving(response.index_version)
        # Already a validated SearchResponse: serialize it once (FastAPI would dump it to a
        # dict, validate that against the response model and encode it again: ~1 ms a query).
        return Response(response.model_dump_json(), media_type="application/json")

    @app.get(
        "/v1/documents/{source}/{document_id:anypath}",
        response_model=DocumentResponse,
        responses={404: {"model": ErrorResponse}, **ERRORS},
        tags=["documents"],
        dependencies=keyed,
    )
    def document(source: str, document_id: str, caller: Caller) -> DocumentResponse | JSONResponse:
        """A document of the published version with its sections and chunk ids."""
        key = f"{source}/{document_id}"
        with live.acquire() as index:
            found = index.lookup.document(key)
            # A hidden document is "not found", word for word: a 403 would confirm it exists.
            if found is None or not index.access.readable(source, document_id, caller.readers):
                message = f"no document {key!r} in version {index.version}"
                return error_response(404, "not_found", message)
            chunks = [ChunkRef(**c) for c in index.lookup.chunks_of(key)]
            return DocumentResponse(
                document_key=key,
                source=found.source,
                document_id=found.id,
                title=found.title,
                uri=found.uri,
                content_hash=found.content_hash,
                modified_at=found.modified_at,
                element_types=found.element_types,
                pages=found.pages,
                links=found.links,
                sections=[s.model_dump(include={"path", "text"}) for s in found.sections],
                chunks=chunks,
                index_version=index.version,
            )

    @app.get(
        "/v1/chunks/{chunk_id}/lineage",
        response_model=Lineage,
        responses={404: {"model": ErrorResponse}, **ERRORS},
        tags=["lineage"],
        dependencies=keyed,
    )
    def lineage(
        chunk_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
        caller: Caller,
        version: Annotated[str | None, Query(pattern=VERSION_PATTERN)] = None,
    ) -> Lineage | JSONResponse:
        """Chunk → document → source version → index version → model fingerprint."""
        try:
            return chunk_lineage(ctx, chunk_id, version, caller.readers)
        except ChunkNotFound as exc:
            return error_response(404, "not_found", str(exc))

    @app.get(
        "/v1/index",
        response_model=IndexResponse,
        responses=ERRORS,
        tags=["index"],
        dependencies=keyed,
    )
    def index_manifest(caller: Caller) -> IndexResponse:
        """The published version: its manifest (counts, model, settings) and when it went live."""
        pointer = ctx.registry.live()
        if pointer is None:
            raise IndexNotFoundError("no index is published yet")
        manifest = ctx.registry.manifest(pointer.version)
        folder = ctx.registry.build_path(pointer.version)
        with live.acquire() as index:
            lookup = (
                index.lookup
                if index.version == pointer.version
                else SnapshotLookup(folder / DOCUMENTS, folder / CHUNKS)
            )
            return IndexResponse(
                version=pointer.version,
                published_at=pointer.published_at,
                previous=pointer.previous,
                staleness=pointer.staleness,
                manifest=manifest_for(manifest, lookup, caller.readers),
            )

    feedback_store = FeedbackStore(ctx.workspace.feedback_db)

    @app.post(
        "/v1/feedback",
        status_code=201,
        response_model=FeedbackRecord,
        responses={404: {"model": ErrorResponse}, **ERRORS},
        tags=["feedback"],
        dependencies=keyed,
    )
    def feedback(
        body: Annotated[FeedbackRequest, Body(openapi_examples=FEEDBACK_EXAMPLES)], caller: Caller
    ) -> FeedbackRecord | JSONResponse:
        """Record whether a hit was useful; it becomes a golden set for the next build."""
        with live.acquire() as index:
            chunk = index.lookup.chunk(body.chunk_id)
            if chunk is None or not index.access.readable(
                chunk.source, chunk.document_id, caller.readers
            ):
                message = f"no chunk {body.chunk_id} in {index.version}"
                return error_response(404, "not_found", message)
            return feedback_store.add(
                utc_now(),
                body.query,
                body.chunk_id,
                body.useful,
                body.note,
                chunk.source,
                chunk.document_id,
                index.version,
            )

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], responses={503: {"model": ErrorResponse}})
    def readyz() -> Any:
        """A published version is loaded and can answer queries."""
        if live.version is None:
            return error_response(503, "not_ready", "no index version loaded yet")
        return {"status": "ready", "index_version": live.version}

    @app.get("/metrics", tags=["ops"], response_class=Response, dependencies=keyed)
    def prometheus() -> Response:
        """Prometheus text format: request counts, search latency histograms per mode.

        Behind the API key like the data routes (Prometheus sends one as a bearer token): it
        describes traffic, which is nobody else's business, though no document.
        """
        metrics.serving(live.version)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` with several workers: reads $RAG_SOURCES."""
    return create_app(PipelineContext(load_sources_file(default_sources_path())))

"""The service's front door: request ids, API-key authentication and per-key rate limits."""

from __future__ import annotations

import logging
import math
import re
import uuid

from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag_pipelines.service.client_address import Network, client_address
from rag_pipelines.service.errors import REQUEST_ID, error_response
from rag_pipelines.service.keys import KeyStore, Principal
from rag_pipelines.service.rate_limit import RateLimiter

log = logging.getLogger(__name__)

# Probes must work without a key; the schema and docs describe the API, not the documents.
OPEN_PATHS = frozenset(
    {"/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
)
OPEN_PREFIXES = ("/docs/assets/",)  # Swagger UI / ReDoc bundles shipped in the package
ANONYMOUS = Principal("anonymous", frozenset())
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_CHALLENGE = 'Bearer realm="rag-pipelines"'


async def current_principal(request: Request) -> Principal:
    """The authenticated caller (anonymous: public documents only).

    A coroutine: FastAPI runs a plain-function dependency in its thread pool, a hand-off that
    cost every request more than the lookup itself.
    """
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else ANONYMOUS


class Guard:
    """ASGI middleware: every request gets an id; all but OPEN_PATHS need a key and a token.

    Without a key store (no `service.auth`) callers are anonymous: public documents only, and no
    rate limit, which is per key (limit by address at the proxy in front, if needed). Plain ASGI
    rather than `@app.middleware("http")`, whose extra task and streams cost every request.
    """

    def __init__(
        self,
        app: ASGIApp,
        keys: KeyStore | None,
        limiter: RateLimiter | None,
        failures: RateLimiter | None = None,
        proxies: tuple[Network, ...] = (),
    ) -> None:
        self.app = app
        self.keys = keys
        self.limiter = limiter
        self.failures = failures  # wrong-key attempts, per client address
        self.proxies = proxies  # trusted reverse proxies: they name the client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate, rate-limit, and tag the response with its request id."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        offered = request.headers.get("x-request-id", "")
        request_id = offered if _CLIENT_ID.match(offered) else uuid.uuid4().hex
        request.state.request_id = request_id  # scope["state"]: the routes' Request sees it

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            refusal = self._refusal(request)
            if refusal is None:
                await self.app(scope, receive, tagged)
            else:
                await refusal(scope, receive, tagged)
        finally:
            REQUEST_ID.reset(token)

    def _refusal(self, request: Request) -> Response | None:
        """The error answer for a request that may not pass; None lets it through."""
        if request.url.path in OPEN_PATHS or request.url.path.startswith(OPEN_PREFIXES):
            return None
        if self.keys is None:
            request.state.principal = ANONYMOUS
            return None
        presented = _presented_key(request)
        if presented is None:
            return _unauthorized("an API key is required: send Authorization: Bearer <key>")
        address = self._client(request)
        if self.failures is not None and (wait := self.failures.wait(address)) > 0:
            # Checked before the key: once the bucket is empty a guess learns nothing.
            return _too_many(f"too many wrong API keys from {address}", wait)
        principal = self.keys.identify(presented)
        if principal is None:
            log.warning("rejected an invalid API key from %s", address)
            if self.failures is not None:
                self.failures.take(address)
            return _unauthorized("the API key is not valid", invalid=True)
        request.state.principal = principal
        if self.limiter is not None:
            wait = self.limiter.take(principal.name, principal.rate_per_s, principal.burst)
            if wait > 0:
                return _too_many(f"too many requests for {principal.name}", wait)
        return None

    def _client(self, request: Request) -> str:
        """The client's address, named by X-Forwarded-For only when a trusted proxy sent it."""
        peer = request.client.host if request.client else "unknown"
        return client_address(peer, request.headers.get("x-forwarded-for"), self.proxies)


def _too_many(message: str, wait: float) -> Response:
    seconds = max(1, math.ceil(wait))
    return error_response(
        429,
        "rate_limited",
        f"{message}; retry in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


def _presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    key = request.headers.get("x-api-key", "").strip()
    return key or None


def _unauthorized(message: str, invalid: bool = False) -> Response:
    challenge = f'{_CHALLENGE}, error="invalid_token"' if invalid else _CHALLENGE
    return error_response(401, "unauthorized", message, headers={"WWW-Authenticate": challenge})

"""The API-key schemes as OpenAPI sees them, so /docs shows an Authorize button.

The Guard middleware authenticates every request before any route runs; these FastAPI security
classes only describe what it accepts (`auto_error=False`: they never refuse anything), and are
attached to the protected routes only when `service.auth` is configured.
"""

from __future__ import annotations

from fastapi import Security
from fastapi.params import Depends
from fastapi.security import APIKeyHeader, HTTPBearer

BEARER = HTTPBearer(
    scheme_name="bearer",
    description="An API key from service.auth, sent as `Authorization: Bearer <key>`.",
    auto_error=False,
)
API_KEY = APIKeyHeader(
    name="X-API-Key",
    scheme_name="apiKey",
    description="The same API key in an `X-API-Key` header instead.",
    auto_error=False,
)


def key_schemes(enabled: bool) -> list[Depends]:
    """Route dependencies declaring either scheme (OpenAPI: one or the other); none without auth."""
    return [Security(BEARER), Security(API_KEY)] if enabled else []

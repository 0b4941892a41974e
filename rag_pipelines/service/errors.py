"""Error bodies of the service: a code, a message, field details and the request id."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from fastapi.responses import JSONResponse

from rag_pipelines.service.schemas import ErrorResponse

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    request_id: str | None = None,
) -> JSONResponse:
    """A JSON error; the request id (also the X-Request-ID header) finds it in the log."""
    body = ErrorResponse(
        error=code,
        message=message,
        details=details or [],
        request_id=request_id or REQUEST_ID.get(),
    )
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


def invalid_field(error: dict[str, Any]) -> dict[str, str]:
    """One validation error as {field, message}; bad JSON names the body, not an offset."""
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "syntax error")
        position = error["loc"][-1]
        return {"field": "body", "message": f"invalid JSON at character {position}: {reason}"}
    field = ".".join(str(p) for p in error["loc"] if p != "body")
    return {"field": field or "body", "message": error["msg"]}

"""One error shape for every 4xx/5xx: `{"error": {"code", "message", "field"}}`.

Status codes (README "HTTP API: errors"):

- 400 `invalid_parameter`  a query/path value fails validation (type, range, enum, RFC 3339)
- 400 `unknown_parameter`  a query parameter the route does not take (`?day=14`): strict,
                           so a typo never silently falls back to a default
- 400 `duplicate_parameter` a query parameter given twice (`?days=1&days=2`)
- 400 `invalid_cursor`     a cursor that is malformed, tampered with, or from another query
- 401 `unauthorized`       no or wrong bearer token (with `WWW-Authenticate: Bearer`)
- 403 `forbidden`          a read token on an admin route, or no admin token configured
- 404 `not_found`          unknown contact, job or route
- 405 `method_not_allowed`
- 503 `mirror_unavailable` no mirror file yet, or it cannot be read
- 503 `job_store_unavailable` the rebuild jobs' SQLite file cannot be used
- 504 `query_timeout`      a query ran past the configured time limit
- 500 `internal_error`     a bug; the body says nothing more, the log has the traceback

FastAPI's own 422 for validation errors is folded into 400 `invalid_parameter`, so every
client mistake is a 400 and a 422 never appears.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("contact_events.api")


class ApiError(Exception):
    """Raised anywhere in a request; answered as the JSON error shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, field), status_code=status, headers=headers)


def bad_parameter(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", f"{field}: {message}", field=field)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)


def _field_of(loc: Sequence[Any]) -> str | None:
    # ("query", "days") -> "days"; ("path", "contact_id") -> "contact_id"
    names = [str(part) for part in loc if part not in ("query", "path", "header", "body")]
    return ".".join(names) or None


def _clean(msg: str) -> str:
    # Pydantic prefixes custom validator messages with "Value error, ".
    return msg.removeprefix("Value error, ")


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if not errors:
        return error_response(400, "invalid_parameter", "invalid request")
    parts = []
    for err in errors:
        field = _field_of(err.get("loc", ()))
        msg = _clean(str(err.get("msg", "invalid value")))
        parts.append(f"{field}: {msg}" if field else msg)
    first = _field_of(errors[0].get("loc", ()))
    code = "invalid_cursor" if first == "cursor" else "invalid_parameter"
    return error_response(400, code, "; ".join(parts), first)


_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404 and message == "Not Found":
        message = "no such route; see /docs"
    return error_response(exc.status_code, code, message, None, exc.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)

"""One error shape for every 4xx/5xx: `{"error": {"code", "message", "field"}}`.

`ERROR_CODES` below is the one list of the codes, with their status: the OpenAPI schema
(`ErrorDetail.code`, app/canned/models.py) and the README's table are made from it or checked
against it, and a test checks that every code the app can answer is in it.

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

# code -> (HTTP status, when). README "HTTP API: errors" lists the same.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "invalid_parameter": (
        400,
        "a query or path value fails validation (type, range, RFC 3339, an event_type "
        "not the mirror's, a measure or lifecycle_stage the mirror has never had, since "
        "later than until)",
    ),
    "unknown_parameter": (
        400,
        "a query parameter the route does not take (`?day=14`): strict, so a typo never "
        "silently falls back to a default",
    ),
    "duplicate_parameter": (400, "a query parameter given twice (`?days=1&days=2`)"),
    "invalid_cursor": (400, "a cursor that is malformed, tampered with, or from another query"),
    "unauthorized": (401, "no or wrong bearer token (with `WWW-Authenticate: Bearer`)"),
    "forbidden": (403, "a read token on an admin route, or no admin token configured"),
    "not_found": (404, "unknown contact, job or route"),
    "method_not_allowed": (405, "a method the route does not take"),
    "uri_too_long": (414, "the URL (path and query string) is longer than 32 KiB"),
    "too_many_requests": (
        429,
        "too many wrong bearer tokens from this client address within a minute (with "
        "`Retry-After`)",
    ),
    "header_fields_too_large": (
        431,
        "more than 100 header fields, or more than 16 KiB of them",
    ),
    "http_error": (400, "any other HTTP error the framework raises (4xx)"),
    "internal_error": (500, "a bug; the body says nothing more, the log has the traceback"),
    "mirror_unavailable": (
        503,
        "no mirror file yet, or it cannot be read or did not verify (with `Retry-After`)",
    ),
    "job_store_unavailable": (
        503,
        "the rebuild jobs' SQLite file beside the mirror cannot be used (with `Retry-After`)",
    ),
    "query_timeout": (504, "a query ran past CONTACT_EVENTS_QUERY_TIME_LIMIT_MS"),
}


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


def error_response(error: ApiError) -> JSONResponse:
    body = error_body(error.code, error.message, error.field)
    return JSONResponse(body, status_code=error.status, headers=error.headers)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc)


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
        return error_response(ApiError(400, "invalid_parameter", "invalid request"))
    parts = []
    for err in errors:
        field = _field_of(err.get("loc", ()))
        msg = _clean(str(err.get("msg", "invalid value")))
        parts.append(f"{field}: {msg}" if field else msg)
    first = _field_of(errors[0].get("loc", ()))
    code = "invalid_cursor" if first == "cursor" else "invalid_parameter"
    return error_response(ApiError(400, code, "; ".join(parts), first))


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
    return error_response(ApiError(exc.status_code, code, message, None, exc.headers))


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)

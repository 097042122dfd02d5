"""Size limits on requests, answered in the JSON error shape before any work.

- the URL (path and query string, as sent): at most `MAX_URL_BYTES` -> 414 `uri_too_long`.
  Generous on purpose: a cursor may be 12,000 characters and a filter value 500, which
  percent-encoded can be 12 bytes a character;
- the request headers: at most `MAX_HEADERS` of them and `MAX_HEADER_BYTES` in all (names
  and values) -> 431 `header_fields_too_large`.

Two places enforce them. `app.http.protocol.LimitedHttpToolsProtocol` (what
`contact-events serve` runs, app/http/serve.py) counts while uvicorn's httptools parser
reads the request, so an oversized one is answered and its connection closed as soon as
it passes a limit: the rest is never read or kept (httptools itself has no limit, and
uvicorn buffers whatever it is sent).
Where h11 parses, uvicorn's own `h11_max_incomplete_event_size` bounds the request line
and headers together (its answer is h11's plain 400). `RequestLimits`, an ASGI
middleware, checks the same limits for every server and in-process client, in the JSON
shape, before any route, token or mirror is looked at.
"""

from __future__ import annotations

from http import HTTPStatus

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from ..core.errors import error_body

MAX_URL_BYTES = 32 * 1024
MAX_HEADERS = 100
MAX_HEADER_BYTES = 16 * 1024
# uvicorn's h11 limit: the request line and headers together, with room for the syntax.
H11_MAX_INCOMPLETE_EVENT_SIZE = MAX_URL_BYTES + MAX_HEADER_BYTES + 4 * MAX_HEADERS + 1024

URL_TOO_LONG = (
    414,
    "uri_too_long",
    f"the URL is longer than {MAX_URL_BYTES} bytes; narrow the request (or follow "
    "next_cursor as given)",
)
TOO_MANY_HEADERS = (
    431,
    "header_fields_too_large",
    f"the request has more than {MAX_HEADERS} header fields",
)
HEADERS_TOO_LARGE = (
    431,
    "header_fields_too_large",
    f"the request's header fields are larger than {MAX_HEADER_BYTES} bytes in all",
)


def _body(status_code_message: tuple[int, str, str]) -> bytes:
    _, code, message = status_code_message
    return orjson.dumps(error_body(code, message))


def check_scope(scope: Scope) -> tuple[int, str, str] | None:
    """The limit a request passes, if any."""
    url = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
    if url > MAX_URL_BYTES:
        return URL_TOO_LONG
    headers = scope["headers"]
    if len(headers) > MAX_HEADERS:
        return TOO_MANY_HEADERS
    size = 0
    for name, value in headers:
        size += len(name) + len(value)
    if size > MAX_HEADER_BYTES:
        return HEADERS_TOO_LARGE
    return None


class RequestLimits:
    """414/431 in the JSON error shape for a request past a size limit, before any work."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            over = check_scope(scope)
            if over is not None:
                body = _body(over)
                await send(
                    {
                        "type": "http.response.start",
                        "status": over[0],
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def raw_response(over: tuple[int, str, str]) -> bytes:
    """A whole HTTP/1.1 response, for a protocol that answers before any ASGI app runs."""
    status = over[0]
    body = _body(over)
    return b"".join(
        [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode(),
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )

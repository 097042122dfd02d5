"""ASGI middleware: the access log and the last-resort 500 (outermost), and ETags for the
GET answers that are not canned queries or pages (innermost).

The access log line is `METHOD /path STATUS 12.3ms`: the query string is never logged
(it can carry contact ids and filter values) and neither are headers (tokens). Uvicorn's
own access log is switched off (app/http/logging.py) because it prints the query string.

An exception nobody handled becomes a JSON 500 `internal_error` with no detail; the
traceback goes to the `contact_events.api` log. It is not re-raised, so the server does
not log the request a second time.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..canned import etag
from ..core.errors import error_body

access_log = logging.getLogger("contact_events.access")
log = logging.getLogger("contact_events.api")

_INTERNAL = json.dumps(
    error_body("internal_error", "internal server error; the server log has the details")
).encode()


def _log_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    if isinstance(raw, bytes | bytearray):
        # raw_path never includes the query string; percent-encoded, so one log line.
        return bytes(raw).decode("ascii", "backslashreplace")
    return quote(str(scope.get("path", "")), safe="/")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), _log_path(scope))
            if response_started:
                # Too late for a clean answer; let the server drop the connection.
                status = 500
                raise
            status = 500
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_INTERNAL)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _INTERNAL})
        finally:
            if access_log.isEnabledFor(logging.INFO):
                # makeRecord + handle: what .info() does, without looking up the caller's
                # file and line in the stack on every request (nothing prints them).
                access_log.handle(
                    access_log.makeRecord(
                        access_log.name,
                        logging.INFO,
                        __file__,
                        0,
                        "%s %s %s %.1fms",
                        (
                            scope.get("method", "-"),
                            _log_path(scope),
                            status,
                            (time.perf_counter() - started) * 1000,
                        ),
                        None,
                    )
                )


class ConditionalMiddleware:
    """An `ETag` (a hash of the body) on every 200 GET answer that has none yet -- /status,
    /rebuild/{job_id}, the docs -- and 304 when `If-None-Match` names it. /health is left
    alone. The canned data routes tag their answers themselves, before any query runs
    (app/canned/handler.py); these answers are small, so buffering them costs nothing."""

    def __init__(
        self, app: ASGIApp, skip: tuple[str, ...] = ("/health",), skip_prefix: str = "/ui/"
    ) -> None:
        self.app = app
        self.skip = skip
        self.skip_prefix = skip_prefix  # the pages: never stored (no-store), never tagged

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["path"] in self.skip
            or scope["path"].startswith(self.skip_prefix)
        ):
            await self.app(scope, receive, send)
            return
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
                break
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if message["status"] != 200 or any(k == b"etag" for k, _ in headers):
                    start = None
                    await send(message)
                    return
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            tag = etag.tag_of_body(body)
            headers = [*start.get("headers", []), (b"etag", tag.encode())]
            if etag.matches(if_none_match, tag) or etag.is_any(if_none_match):
                kept = [(k, v) for k, v in headers if k not in (b"content-length", b"content-type")]
                await send({"type": "http.response.start", "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffer)

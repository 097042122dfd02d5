"""Security headers on every answer of the pages, and their last-resort error page.

An ASGI middleware of the pages' own sub-application (mounted at /ui), so the JSON routes
never pass through it. Pages are never stored (`no-store`: patient data), framed, or
given a Referer, and the Content-Security-Policy allows no script at all (the pages have
none), styles and images only from the app itself, forms only to the app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("contact_events.api")

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
PAGE_CACHE = b"no-store"
# Static files hold no patient data; their URLs carry a hash of their content (?v=).
STATIC_CACHE = b"public, max-age=86400"
HSTS = (b"strict-transport-security", b"max-age=31536000")
REPLACED = {b"cache-control", *(name for name, _ in SECURITY_HEADERS)}


class PageHeaders:
    """Adds the headers; renders `error_page()` for an exception nobody handled."""

    def __init__(
        self, app: ASGIApp, error_page: Callable[[], bytes], static_prefix: str = "/static/"
    ) -> None:
        self.app = app
        self.error_page = error_page
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        static = path.removeprefix(root).startswith(self.static_prefix)
        extra = [*SECURITY_HEADERS, (b"cache-control", STATIC_CACHE if static else PAGE_CACHE)]
        if scope.get("scheme") == "https":
            extra.append(HSTS)
        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                kept = [(k, v) for k, v in message.get("headers", []) if k not in REPLACED]
                message = {**message, "headers": kept + extra}
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:
            log.exception("unhandled error in a page: %s", path)
            if started:
                raise
            body = self.error_page()
            await with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"text/html; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})

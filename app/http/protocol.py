"""uvicorn's httptools protocol, counting the URL and headers as it parses them
(app/http/limits.py says which limits and why). A module of its own, imported only by
`contact-events serve`: uvicorn pickles its settings, this class included, for each worker
process, so it must be importable by name; and it needs httptools, which uvicorn[standard]
brings.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .limits import (
    H11_MAX_INCOMPLETE_EVENT_SIZE,
    HEADERS_TOO_LARGE,
    MAX_HEADER_BYTES,
    MAX_HEADERS,
    MAX_URL_BYTES,
    TOO_MANY_HEADERS,
    URL_TOO_LONG,
    raw_response,
)


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """Answers 414/431 (JSON) and closes the connection the moment a request passes a
    limit. A parser callback that raises makes httptools stop with a parser error,
    which uvicorn answers with `send_400_response`: the answer is chosen there."""

    _over: tuple[int, str, str] | None = None
    _header_bytes = 0
    # Bytes received while a request's head (line and headers) is incomplete, from the
    # connection's start or the previous request's end: a header httptools is still
    # collecting is not seen by on_header until it ends.
    _in_head = True
    _head_bytes = 0

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Still inside one request's head after all of that: a header (or URL) that never
        # ends is cut off here, not buffered without end. (A head that ended in this read
        # stopped the count, so a request and its body, or the next request, in one read
        # are not mistaken for one long head.)
        if (
            self._in_head
            and self._head_bytes > H11_MAX_INCOMPLETE_EVENT_SIZE
            and not self.transport.is_closing()
        ):
            self._over = HEADERS_TOO_LARGE
            self.send_400_response("request head too large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._over = None
        self._header_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # What arrives next is the next request's head: counted from its first byte.
        self._in_head = True
        self._head_bytes = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_URL_BYTES:
            self._over = URL_TOO_LONG
            raise ValueError("URL too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if self._header_bytes > MAX_HEADER_BYTES:
            self._over = HEADERS_TOO_LARGE
            raise ValueError("headers too large")
        if len(self.headers) >= MAX_HEADERS:
            self._over = TOO_MANY_HEADERS
            raise ValueError("too many headers")
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        if self._over is None:
            super().send_400_response(msg)
            return
        self.transport.write(raw_response(self._over))
        self.transport.close()

"""The client's plumbing: one httpx client, the request, the errors, the paging.

The route methods (routes.py, generated) and the few hand-written ones (client.py) all
go through `_request` and `_iterate` here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from contact_events_client.errors import (
    ContactEventsAPIError,
    ContactEventsConfigError,
    ContactEventsConnectionError,
)

URL_VARIABLE = "CONTACT_EVENTS_API_URL"
TOKEN_VARIABLE = "CONTACT_EVENTS_API_TOKEN"  # noqa: S105 - a variable's name, not a token

Timestamp = str | datetime | date
M = TypeVar("M", bound=BaseModel)
Item = TypeVar("Item", bound=BaseModel, covariant=True)


class Page(Protocol[Item]):
    @property
    def items(self) -> list[Item]: ...  # pragma: no cover

    @property
    def next_cursor(self) -> str | None: ...  # pragma: no cover


def _timestamp(value: Timestamp) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()  # a bare date: midnight UTC
    return value


def _params(values: Mapping[str, Any]) -> dict[str, str | int]:
    """Drop None; timestamps to RFC 3339."""
    out: dict[str, str | int] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = _timestamp(value) if isinstance(value, date) else value
    return out


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def segment(value: str) -> str:
    """One path segment, percent-encoded (a contact id may hold `?` or `#`)."""
    return quote(value, safe="")


class BaseClient:
    """A client of one API: `base_url` and a bearer token (read, or admin for `rebuild`).

    Pass `transport=` (e.g. `httpx.MockTransport`) or `client=` (an existing
    `httpx.Client`, such as FastAPI's TestClient) to talk to an app in-process."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._owns_client = client is None
        if client is None:
            client = httpx.Client(
                base_url=base_url, transport=transport, timeout=timeout, headers=headers
            )
            self._headers: dict[str, str] = {}
        else:
            self._headers = headers
        self._client = client

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> Self:
        """A client from CONTACT_EVENTS_API_URL (the API's base URL) and
        CONTACT_EVENTS_API_TOKEN (a read token, or the admin token to start rebuilds);
        `environ` defaults to os.environ. A missing or empty one is a
        `ContactEventsConfigError` naming it."""
        env = os.environ if environ is None else environ
        url = env.get(URL_VARIABLE, "").strip()
        token = env.get(TOKEN_VARIABLE, "").strip()
        missing = [
            name for name, value in ((URL_VARIABLE, url), (TOKEN_VARIABLE, token)) if not value
        ]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise ContactEventsConfigError(
                f"{' and '.join(missing)} {verb} not set: export {URL_VARIABLE} "
                f"(e.g. http://127.0.0.1:8000) and {TOKEN_VARIABLE} (an API token)"
            )
        return cls(url, token, transport=transport, timeout=timeout, client=client)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(
        self,
        model: type[M],
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
    ) -> M:
        try:
            response = self._client.request(
                method, path, params=_params(params or {}), headers=self._headers
            )
        except httpx.TransportError as e:
            where = self._client.base_url.join(path)
            raise ContactEventsConnectionError(
                f"{method} {where}: no answer ({type(e).__name__}: {e})"
            ) from e
        if response.status_code >= 400:
            raise self._error(response)
        try:
            return model.model_validate_json(response.content)
        except ValidationError as e:
            first = e.errors()[0]
            at = ".".join(str(part) for part in first["loc"]) or "body"
            raise ContactEventsAPIError(
                response.status_code,
                "invalid_response",
                f"{method} {path}: the answer is not a {model.__name__} ({at}: {first['msg']})",
            ) from None

    @staticmethod
    def _error(response: httpx.Response) -> ContactEventsAPIError:
        code, message, field = "http_error", response.reason_phrase or "error", None
        try:
            body = response.json()
            error = body.get("error") if isinstance(body, dict) else None
            if isinstance(error, dict):
                code = str(error.get("code", code))
                message = str(error.get("message", message))
                field = error.get("field")
        except ValueError:
            pass
        retry_after = _retry_after(response.headers.get("Retry-After"))
        return ContactEventsAPIError(response.status_code, code, message, field, retry_after)

    @staticmethod
    def _iterate(fetch: Callable[[str | None], Page[Item]]) -> Iterator[Item]:
        cursor: str | None = None
        while True:
            page = fetch(cursor)
            yield from page.items
            cursor = page.next_cursor
            if not cursor:
                return

"""A small typed client for the contact-events API.

    with ContactEventsClient("http://127.0.0.1:8000", token) as api:
        for event in api.iter_events(event_name="Form Reminder Sent", since="2024-05-01"):
            ...

Every method returns the parsed JSON (dicts) and raises `ContactEventsAPIError` on a
4xx/5xx. Pass `transport=` (e.g. `httpx.MockTransport`) or `client=` (an existing
`httpx.Client`, such as FastAPI's TestClient) to talk to an app in-process.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

Timestamp = str | datetime
JSON = dict[str, Any]


class ContactEventsAPIError(Exception):
    """A 4xx/5xx answer: HTTP status, the error code and message of the JSON body."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def _timestamp(value: Timestamp) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def _params(values: Mapping[str, Any]) -> dict[str, str | int]:
    """Drop None; timestamps to RFC 3339."""
    out: dict[str, str | int] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = _timestamp(value) if isinstance(value, datetime) else value
    return out


class ContactEventsClient:
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

    # -- plumbing ---------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> ContactEventsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, params: Mapping[str, Any] | None = None) -> JSON:
        response = self._client.request(
            method, path, params=_params(params or {}), headers=self._headers
        )
        if response.status_code >= 400:
            raise self._error(response)
        return response.json()

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
        return ContactEventsAPIError(response.status_code, code, message, field)

    def _iterate(self, path: str, params: Mapping[str, Any]) -> Iterator[JSON]:
        cursor: str | None = None
        while True:
            page = self._request("GET", path, {**params, "cursor": cursor})
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    # -- routes -----------------------------------------------------------------------

    def health(self) -> JSON:
        return self._request("GET", "/health")

    def status(self) -> JSON:
        return self._request("GET", "/status")

    def needs_form(
        self,
        days: int | None = None,
        *,
        measure: str | None = None,
        lifecycle_stage: str | None = None,
        as_of: Timestamp | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> JSON:
        return self._request(
            "GET",
            "/contacts/needs-form",
            {
                "days": days,
                "measure": measure,
                "lifecycle_stage": lifecycle_stage,
                "as_of": as_of,
                "limit": limit,
                "cursor": cursor,
            },
        )

    def iter_needs_form(self, days: int | None = None, **filters: Any) -> Iterator[JSON]:
        return self._iterate("/contacts/needs-form", {"days": days, **filters})

    def gone_quiet(
        self,
        days: int | None = None,
        *,
        event_type: str | None = None,
        lifecycle_stage: str | None = None,
        as_of: Timestamp | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> JSON:
        return self._request(
            "GET",
            "/contacts/gone-quiet",
            {
                "days": days,
                "event_type": event_type,
                "lifecycle_stage": lifecycle_stage,
                "as_of": as_of,
                "limit": limit,
                "cursor": cursor,
            },
        )

    def iter_gone_quiet(self, days: int | None = None, **filters: Any) -> Iterator[JSON]:
        return self._iterate("/contacts/gone-quiet", {"days": days, **filters})

    def channel_summary(
        self,
        *,
        lifecycle_stage: str | None = None,
        as_of: Timestamp | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> JSON:
        return self._request(
            "GET",
            "/contacts/channel-summary",
            {"lifecycle_stage": lifecycle_stage, "as_of": as_of, "limit": limit, "cursor": cursor},
        )

    def iter_channel_summary(self, **filters: Any) -> Iterator[JSON]:
        return self._iterate("/contacts/channel-summary", filters)

    def contact_summary(self, contact_id: str, *, as_of: Timestamp | None = None) -> JSON:
        return self._request("GET", f"/contacts/{_segment(contact_id)}/summary", {"as_of": as_of})

    def timeline(
        self,
        contact_id: str,
        *,
        event_type: str | None = None,
        since: Timestamp | None = None,
        until: Timestamp | None = None,
        as_of: Timestamp | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> JSON:
        return self._request(
            "GET",
            f"/contacts/{_segment(contact_id)}/timeline",
            {
                "event_type": event_type,
                "since": since,
                "until": until,
                "as_of": as_of,
                "limit": limit,
                "cursor": cursor,
            },
        )

    def iter_timeline(self, contact_id: str, **filters: Any) -> Iterator[JSON]:
        return self._iterate(f"/contacts/{_segment(contact_id)}/timeline", filters)

    def events(
        self,
        *,
        contact_id: str | None = None,
        event_type: str | None = None,
        event_name: str | None = None,
        event_source: str | None = None,
        since: Timestamp | None = None,
        until: Timestamp | None = None,
        as_of: Timestamp | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> JSON:
        return self._request(
            "GET",
            "/events",
            {
                "contact_id": contact_id,
                "event_type": event_type,
                "event_name": event_name,
                "event_source": event_source,
                "since": since,
                "until": until,
                "as_of": as_of,
                "limit": limit,
                "cursor": cursor,
            },
        )

    def iter_events(self, **filters: Any) -> Iterator[JSON]:
        return self._iterate("/events", filters)

    def rebuild(self) -> JSON:
        """Start a rebuild (admin token); the running job if one is already running."""
        return self._request("POST", "/rebuild")

    def rebuild_job(self, job_id: str) -> JSON:
        return self._request("GET", f"/rebuild/{_segment(job_id)}")


def _segment(value: str) -> str:
    """One path segment, percent-encoded (a contact id may hold `?` or `#`)."""
    return quote(value, safe="")

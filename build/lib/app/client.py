"""The Python SDK of the contact-events API: one typed method per route.

    from app.client import ContactEventsClient

    with ContactEventsClient.from_env() as api:  # CONTACT_EVENTS_API_URL, _API_TOKEN
        for row in api.iter_needs_form(days=14, measure="phq9"):
            print(row.contact_id, row.email, row.last_form_at)

Every method returns the API's own response models (app/models.py: `NeedsFormPage`,
`LedgerEvent`, `RebuildJob`, ...), parsed and checked; the `iter_*` methods follow
`next_cursor` across pages and yield the items. Filters are keyword arguments with types
(a misspelt one is a `TypeError` before any request); `as_of`, `since` and `until` take a
`datetime` (naive = UTC), a `date` (midnight UTC) or an RFC 3339 string.

Errors: every one the client raises is a `ContactEventsError`. A 4xx/5xx answer is a
`ContactEventsAPIError` (status, code, message, field, and `retry_after` in seconds when the
answer carried `Retry-After`); an API that cannot be reached a `ContactEventsConnectionError`;
a missing environment variable in `from_env()` a `ContactEventsConfigError` (a ValueError);
a rebuild that failed, in `wait_for_rebuild`, a `RebuildFailedError` carrying the job.

Pass `transport=` (e.g. `httpx.MockTransport`) or `client=` (an existing `httpx.Client`,
such as FastAPI's TestClient) to talk to an app in-process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from app.models import (
    ChannelSummaryPage,
    ChannelSummaryRow,
    EventPage,
    GoneQuietPage,
    GoneQuietRow,
    HealthResponse,
    LedgerEvent,
    NeedsFormPage,
    NeedsFormRow,
    RebuildJob,
    StatusResponse,
)

__all__ = [
    "ContactEventsAPIError",
    "ContactEventsClient",
    "ContactEventsConfigError",
    "ContactEventsConnectionError",
    "ContactEventsError",
    "RebuildFailedError",
    "Timestamp",
]

URL_VARIABLE = "CONTACT_EVENTS_API_URL"
TOKEN_VARIABLE = "CONTACT_EVENTS_API_TOKEN"  # noqa: S105 - a variable's name, not a token

Timestamp = str | datetime | date
M = TypeVar("M", bound=BaseModel)
Item = TypeVar("Item", bound=BaseModel, covariant=True)


class ContactEventsError(Exception):
    """Anything the client raises on purpose."""


class ContactEventsAPIError(ContactEventsError):
    """A 4xx/5xx answer: HTTP status, the error code, message and field of the JSON body,
    and `retry_after` (seconds) when the answer said when to try again (429, 503)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        text = f"{status} {code}: {message}"
        if retry_after is not None:
            text += f" (retry after {retry_after:g} s)"
        super().__init__(text)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retry_after = retry_after


class ContactEventsConnectionError(ContactEventsError):
    """The API did not answer: refused, unreachable or timed out."""


class ContactEventsConfigError(ContactEventsError, ValueError):
    """`from_env()` without the variables it needs."""


class RebuildFailedError(ContactEventsError):
    """`wait_for_rebuild`: the job ended `failed` (the previous mirror is still served).
    `job` is the final job, its `error` the reason."""

    def __init__(self, job: RebuildJob) -> None:
        super().__init__(f"rebuild job {job.job_id} failed: {job.error}")
        self.job = job


class _Page(Protocol[Item]):
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


def _segment(value: str) -> str:
    """One path segment, percent-encoded (a contact id may hold `?` or `#`)."""
    return quote(value, safe="")


class ContactEventsClient:
    """A client of one API: `base_url` and a bearer token (read, or admin for `rebuild`)."""

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
    ) -> ContactEventsClient:
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

    # -- plumbing ---------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> ContactEventsClient:
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
    def _iterate(fetch: Callable[[str | None], _Page[Item]]) -> Iterator[Item]:
        cursor: str | None = None
        while True:
            page = fetch(cursor)
            yield from page.items
            cursor = page.next_cursor
            if not cursor:
                return

    # -- health and status ------------------------------------------------------------

    def health(self) -> HealthResponse:
        """GET /health (no token needed)."""
        return self._request(HealthResponse, "GET", "/health")

    def status(self) -> StatusResponse:
        """GET /status: the latest build, profile, event types, counts and mirror age."""
        return self._request(StatusResponse, "GET", "/status")

    # -- contacts ---------------------------------------------------------------------

    def needs_form(
        self,
        days: int | None = None,
        *,
        measure: str | None = None,
        lifecycle_stage: str | None = None,
        allow_unseen: bool | None = None,
        as_of: Timestamp | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> NeedsFormPage:
        """GET /contacts/needs-form: one page (days defaults to 14 on the server)."""
        return self._request(
            NeedsFormPage,
            "GET",
            "/contacts/needs-form",
            {
                "days": days,
                "measure": measure,
                "lifecycle_stage": lifecycle_stage,
                "allow_unseen": allow_unseen,
                "as_of": as_of,
                "limit": limit,
                "cursor": cursor,
            },
        )

    def iter_needs_form(
        self,
        days: int | None = None,
        *,
        measure: str | None = None,
        lifecycle_stage: str | None = None,
        allow_unseen: bool | None = None,
        as_of: Timestamp | None = None,
        limit: int | None = None,
    ) -> Iterator[NeedsFormRow]:
        """Every row of needs-form, page after page (`limit`: the page size)."""
        return self._iterate(
            lambda cursor: self.needs_form(
                days,
                measure=measure,
                lifecycle_stage=lifecycle_stage,
                allow_unseen=allow_unseen,
                as_of=as_of,
                limit=limit,
                cursor=cursor,
            )
        )

    def gone_quiet(
        self,
        days: int | None = None,
        *,
        event_type: str | None = None,
        lifecycle_stage: str | None = None,
        allow_unseen: bool | None = None,
        as_of: Timestamp | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> GoneQuietPage:
        """GET /contacts/gone-quiet: one page (days defaults to 30 on the server)."""
        return self._request(
            GoneQuietPage,
            "GET",
            "/contacts/gone-quiet",
            {
                "days": days,
                "event_type": event_type,
                "lifecycle_stage": lifecycle_stage,
                "allow_unseen": allow_unseen,
                "as_of": as_of,
                "limit": limit,
                "cursor": cursor,
            },
        )

    def iter_gone_quiet(
        self,
        days: int | None = None,
        *,
        event_type: str | None = None,
        lifecycle_stage: str | None = None,
        allow_unseen: bool | None = None,
        as_of: Timestamp | None = None,
        limit: int | None = None,
    ) -> Iterator[GoneQuietRow]:
        """Every row of gone-quiet, page after page."""
        return self._iterate(
            lambda cursor: self.gone_quiet(
                days,
                event_type=event_type,
                lifecycle_stage=lifecycle_stage,
                allow_unseen=allow_unseen,
                as_of=as_of,
                limit=limit,
                cursor=cursor,
            )
        )

    def channel_summary(
        self,
        *,
        lifecycle_stage: str | None = None,
        allow_unseen: bool | None = None,
        as_of: Timestamp | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> ChannelSummaryPage:
        """GET /contacts/channel-summary: one page."""
        return self._request(
            ChannelSummaryPage,
            "GET",
            "/contacts/channel-summary",
            {
                "lifecycle_stage": lifecycle_stage,
                "allow_unseen": allow_unseen,
                "as_of": as_of,
                "limit": limit,
                "cursor": cursor,
            },
        )

    def iter_channel_summary(
        self,
        *,
        lifecycle_stage: str | None = None,
        allow_unseen: bool | None = None,
        as_of: Timestamp | None = None,
        limit: int | None = None,
    ) -> Iterator[ChannelSummaryRow]:
        """Every row of channel-summary, page after page."""
        return self._iterate(
            lambda cursor: self.channel_summary(
                lifecycle_stage=lifecycle_stage,
                allow_unseen=allow_unseen,
                as_of=as_of,
                limit=limit,
                cursor=cursor,
            )
        )

    def contact_summary(
        self, contact_id: str, *, as_of: Timestamp | None = None
    ) -> ChannelSummaryRow:
        """GET /contacts/{contact_id}/summary (404 for an unknown contact)."""
        return self._request(
            ChannelSummaryRow, "GET", f"/contacts/{_segment(contact_id)}/summary", {"as_of": as_of}
        )

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
    ) -> EventPage:
        """GET /contacts/{contact_id}/timeline: one page, newest first."""
        return self._request(
            EventPage,
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

    def iter_timeline(
        self,
        contact_id: str,
        *,
        event_type: str | None = None,
        since: Timestamp | None = None,
        until: Timestamp | None = None,
        as_of: Timestamp | None = None,
        limit: int | None = None,
    ) -> Iterator[LedgerEvent]:
        """Every event of the contact's timeline, page after page."""
        return self._iterate(
            lambda cursor: self.timeline(
                contact_id,
                event_type=event_type,
                since=since,
                until=until,
                as_of=as_of,
                limit=limit,
                cursor=cursor,
            )
        )

    # -- events -----------------------------------------------------------------------

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
    ) -> EventPage:
        """GET /events: one page of ledger rows matching every filter, orphans included."""
        return self._request(
            EventPage,
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

    def iter_events(
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
    ) -> Iterator[LedgerEvent]:
        """Every matching ledger row, page after page."""
        return self._iterate(
            lambda cursor: self.events(
                contact_id=contact_id,
                event_type=event_type,
                event_name=event_name,
                event_source=event_source,
                since=since,
                until=until,
                as_of=as_of,
                limit=limit,
                cursor=cursor,
            )
        )

    # -- rebuild ----------------------------------------------------------------------

    def rebuild(self) -> RebuildJob:
        """POST /rebuild (admin token): the new job, or the one already queued or running."""
        return self._request(RebuildJob, "POST", "/rebuild")

    def rebuild_job(self, job_id: str) -> RebuildJob:
        """GET /rebuild/{job_id} (any token)."""
        return self._request(RebuildJob, "GET", f"/rebuild/{_segment(job_id)}")

    def wait_for_rebuild(
        self, job_id: str, *, timeout: float = 600.0, poll: float = 1.0
    ) -> RebuildJob:
        """Poll the job every `poll` seconds until it has finished; return it if it
        `succeeded`. A `failed` job raises `RebuildFailedError` (its `job` is the final
        job; the previous mirror is still served); a job still queued or running after
        `timeout` seconds raises `TimeoutError` naming it (the job itself goes on). An
        error answer while polling (an unknown job id, 404) raises as any call does."""
        if timeout < 0 or poll <= 0:
            raise ValueError("wait_for_rebuild: timeout must be >= 0 and poll > 0")
        deadline = time.monotonic() + timeout
        while True:
            job = self.rebuild_job(job_id)
            if job.state == "failed":
                raise RebuildFailedError(job)
            if job.state == "succeeded":
                return job
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"rebuild job {job_id} still {job.state} after {timeout:g} s "
                    f"(GET /rebuild/{job_id} to follow it)"
                )
            time.sleep(min(poll, left))

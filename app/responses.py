"""Row -> response helpers shared by the routers, and the documented error responses."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from app.db import Mirror
from app.errors import ApiError
from app.models import ErrorResponse
from app.pagination import Page, start_page
from app.timestamps import cutoff, mirror_to_datetime, now_utc, to_mirror, to_rfc3339
from builder.contract import EVENT_TYPES


def error_doc(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_doc(
        "Bad input: `invalid_parameter` (wrong type, out of range, unknown event_type, "
        "malformed RFC 3339 timestamp), `unknown_parameter` (a query parameter the route "
        "does not take), `duplicate_parameter` (one given twice) or `invalid_cursor`."
    ),
    401: error_doc("Missing or wrong bearer token (`WWW-Authenticate: Bearer`)."),
}
DATA_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    503: error_doc("No mirror yet, or it cannot be read (`mirror_unavailable`)."),
    504: error_doc("The query ran past the configured time limit (`query_timeout`)."),
}


UNKNOWN_CONTACT: dict[int | str, dict[str, Any]] = {404: error_doc("Unknown contact.")}


def as_of_text(value: datetime | None) -> str:
    return to_mirror(value if value is not None else now_utc())


def cutoff_of(as_of: str, days: int) -> str:
    """`as_of - days` for an as_of already in mirror form."""
    parsed = mirror_to_datetime(as_of)
    if parsed is None:  # pragma: no cover - as_of comes from to_mirror or a checked cursor
        raise ApiError(400, "invalid_parameter", "as_of: malformed", field="as_of")
    return cutoff(parsed, days)


def unknown_contact() -> ApiError:
    return ApiError(404, "not_found", "no contact with this contact_id", field="contact_id")


def summary_item(row: dict[str, Any]) -> dict[str, Any]:
    counts = {t: int(row[t] or 0) for t in EVENT_TYPES}
    return {
        "contact_id": row["contact_id"],
        "counts": counts,
        "total": sum(counts.values()),
        "last_activity_at": to_rfc3339(row["last_activity_at"]),
    }


def event_item(row: dict[str, Any]) -> dict[str, Any]:
    payload = row["payload"]
    try:
        parsed = json.loads(payload) if isinstance(payload, str) else payload
    except ValueError:
        parsed = None
    row["payload"] = parsed if isinstance(parsed, dict) else {"value": parsed}
    row["event_timestamp"] = to_rfc3339(row["event_timestamp"])
    return row


def event_key(row: dict[str, Any]) -> list[str]:
    return [row["event_timestamp"], row["source_system"], row["source_record_id"]]


def events_page(
    filters: dict[str, Any],
    *,
    since: datetime | None,
    until: datetime | None,
    as_of: datetime | None,
    cursor: str | None,
    limit: int,
    mirror: Mirror,
) -> tuple[Page, dict[str, Any]]:
    """Paging state and SQL parameters of timeline.sql / events.sql."""
    since_text = to_mirror(since) if since is not None else None
    until_text = to_mirror(until) if until is not None else None
    page = start_page(
        "events",
        {**filters, "since": since_text, "until": until_text},
        as_of=as_of,
        cursor=cursor,
        limit=limit,
        max_rows=mirror.max_rows,
    )
    after = page.after or [None, None, None]
    params = {
        **filters,
        "as_of": page.as_of,
        "since": since_text,
        "until": until_text,
        "after_ts": after[0],
        "after_system": after[1],
        "after_record_id": after[2],
        "limit": page.fetch_limit,
    }
    return page, params

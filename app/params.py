"""Query and path parameters shared by the routes, with their OpenAPI descriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import BeforeValidator

from app.models import EventType
from app.pagination import MAX_CURSOR_CHARS
from app.timestamps import parse_rfc3339

MAX_TEXT = 500


def _timestamp(value: object) -> object:
    if isinstance(value, str):
        return parse_rfc3339(value)
    return value


Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]

AS_OF_DESC = (
    "RFC 3339 instant the question is asked at (default: now). Events after it do not "
    "count. Without an offset it is read as UTC; a bare date means midnight UTC. "
    "A cursor keeps the as_of of its first page."
)

AsOf = Annotated[Timestamp | None, Query(description=AS_OF_DESC, examples=["2024-05-01T09:30:00Z"])]
Since = Annotated[
    Timestamp | None,
    Query(
        description="Only events at or after this RFC 3339 instant (inclusive).",
        examples=["2024-01-01T00:00:00Z"],
    ),
]
Until = Annotated[
    Timestamp | None,
    Query(
        description="Only events strictly before this RFC 3339 instant (exclusive).",
        examples=["2024-02-01T00:00:00Z"],
    ),
]


def days_param(default: int) -> object:
    return Query(
        ge=0,
        le=36500,
        description=(
            f"Look-back in whole days, 0..36500 (default {default}). The cut-off is "
            "`as_of - days`; before the cut-off means strictly earlier."
        ),
    )


Limit = Annotated[int, Query(ge=1, le=1000, description="Page size, 1..1000 (default 100).")]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CURSOR_CHARS,
        description=(
            "Opaque `next_cursor` of the previous page. Pass it back unchanged with the same "
            "filters; a malformed or foreign cursor is a 400."
        ),
    ),
]
EventTypeFilter = Annotated[
    EventType | None,
    Query(description="Only this event type: form, session, email, message or system."),
]
LifecycleStage = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_TEXT,
        description="Only contacts in this lifecycle_stage (exact match), e.g. `active`.",
        examples=["active"],
    ),
]


def text_filter(description: str, example: str) -> object:
    return Query(min_length=1, max_length=MAX_TEXT, description=description, examples=[example])


ContactIdPath = Annotated[
    str,
    Path(min_length=1, max_length=MAX_TEXT, description="The contact's id.", examples=["c-000123"]),
]

"""GET /events: ledger rows matching every given filter, orphans included.

With a `contact_id` it is an index probe of one contact (timeline.sql) and runs on the
event loop; without one it walks the time index (events.sql, or events_by_name.sql for an
`event_name`) and runs in the thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from app.db import MirrorConnection
from app.deps import MirrorDep, ReadAuth, StrictQuery, read
from app.models import EventPage
from app.params import AsOf, Cursor, EventTypeFilter, Limit, Since, Until, text_filter
from app.responses import DATA_ERRORS, event_item, event_key, events_page

router = APIRouter(tags=["events"], dependencies=[ReadAuth, StrictQuery], responses=DATA_ERRORS)


@router.get(
    "/events",
    response_model=EventPage,
    summary="Search the ledger",
    description=(
        "Ledger rows matching all given filters, newest first (ties: `source_system`, then "
        '`source_record_id`): "did we send that reminder?". Orphan events (no '
        "`contact_id`) appear here and only here. `since` is inclusive, `until` exclusive; "
        "events after `as_of` do not count. An unknown `contact_id` gives an empty list."
    ),
)
async def events(
    response: Response,
    mirror: MirrorDep,
    contact_id: Annotated[
        str | None, text_filter("Only this contact's events.", "c-000123")
    ] = None,
    event_type: EventTypeFilter = None,
    event_name: Annotated[
        str | None, text_filter("Exact event_name.", "Form Reminder Sent")
    ] = None,
    event_source: Annotated[str | None, text_filter("Exact event_source.", "life_cli")] = None,
    since: Since = None,
    until: Until = None,
    as_of: AsOf = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    filters = {
        "contact_id": contact_id,
        "event_type": event_type,
        "event_name": event_name,
        "event_source": event_source,
    }
    page, params = events_page(
        filters, since=since, until=until, as_of=as_of, cursor=cursor, limit=limit, mirror=mirror
    )
    # Canned variants of one query, each with its filter as a plain equality an index can
    # use: one contact (timeline.sql), one event name (events_by_name.sql), or neither.
    if contact_id is not None:
        query = "timeline"
    elif event_name is not None:
        query = "events_by_name"
    else:
        query = "events"

    def work(db: MirrorConnection) -> list[dict[str, Any]]:
        return db.fetch(query, params, page.fetch_limit)

    if contact_id is not None:
        rows = read(mirror, response, work)
    else:
        rows = await run_in_threadpool(read, mirror, response, work)
    rows, next_cursor = page.finish(rows, event_key)
    return {"items": [event_item(row) for row in rows], "next_cursor": next_cursor}

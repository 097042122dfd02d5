"""/contacts/...: needs-form, gone-quiet, channel-summary, one contact's summary and timeline.

needs-form, gone-quiet and channel-summary look at every contact, so they run in the
thread pool; summary and timeline are index probes of one contact and run directly on
the event loop (sub-millisecond SQLite calls are cheaper there than a thread hop).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from app.db import MirrorConnection
from app.deps import MirrorDep, ReadAuth, StrictQuery, read
from app.models import (
    ChannelSummaryPage,
    ChannelSummaryRow,
    EventPage,
    GoneQuietPage,
    NeedsFormPage,
)
from app.pagination import start_page
from app.params import (
    AsOf,
    ContactIdPath,
    Cursor,
    EventTypeFilter,
    LifecycleStage,
    Limit,
    Since,
    Until,
    days_param,
    text_filter,
)
from app.responses import (
    DATA_ERRORS,
    UNKNOWN_CONTACT,
    as_of_text,
    cutoff_of,
    event_item,
    event_key,
    events_page,
    summary_item,
    unknown_contact,
)
from app.timestamps import to_rfc3339

router = APIRouter(
    prefix="/contacts",
    tags=["contacts"],
    dependencies=[ReadAuth, StrictQuery],
    responses=DATA_ERRORS,
)

Measure = Annotated[
    str | None,
    text_filter("Only forms with this event_name (the measure id), e.g. `phq9`.", "phq9"),
]


@router.get(
    "/needs-form",
    response_model=NeedsFormPage,
    summary="Contacts due a form",
    description=(
        "Contacts whose latest `form` event (with `event_name` = `measure`, if given) is "
        "before the cut-off `as_of - days`, or who have none. Ordered by `last_form_at` "
        "(nulls first), then `contact_id`."
    ),
)
async def needs_form(
    response: Response,
    mirror: MirrorDep,
    days: Annotated[int, days_param(14)] = 14,
    measure: Measure = None,
    lifecycle_stage: LifecycleStage = None,
    as_of: AsOf = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    page = start_page(
        "needs_form",
        {"days": days, "measure": measure, "lifecycle_stage": lifecycle_stage},
        as_of=as_of,
        cursor=cursor,
        limit=limit,
        max_rows=mirror.max_rows,
    )
    params = {
        "as_of": page.as_of,
        "cutoff": cutoff_of(page.as_of, days),
        "measure": measure,
        "lifecycle_stage": lifecycle_stage,
        "after_at": page.after[0] if page.after else None,
        "after_id": page.after[1] if page.after else None,
        "limit": page.fetch_limit,
    }

    def work(db: MirrorConnection) -> list[dict[str, Any]]:
        return db.fetch("needs_form", params, page.fetch_limit)

    rows, next_cursor = page.finish(
        await run_in_threadpool(read, mirror, response, work),
        lambda r: [r["last_form_at"] or "", r["contact_id"]],
    )
    for row in rows:
        row["last_form_at"] = to_rfc3339(row["last_form_at"])
    return {"items": rows, "next_cursor": next_cursor}


@router.get(
    "/gone-quiet",
    response_model=GoneQuietPage,
    summary="Contacts who have gone quiet",
    description=(
        "Contacts with at least one event (of `event_type`, if given) whose latest is before "
        "the cut-off `as_of - days`, with that latest event. Ordered by `last_event_at`, "
        "then `contact_id`."
    ),
)
async def gone_quiet(
    response: Response,
    mirror: MirrorDep,
    days: Annotated[int, days_param(30)] = 30,
    event_type: EventTypeFilter = None,
    lifecycle_stage: LifecycleStage = None,
    as_of: AsOf = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    page = start_page(
        "gone_quiet",
        {"days": days, "event_type": event_type, "lifecycle_stage": lifecycle_stage},
        as_of=as_of,
        cursor=cursor,
        limit=limit,
        max_rows=mirror.max_rows,
    )
    params = {
        "as_of": page.as_of,
        "cutoff": cutoff_of(page.as_of, days),
        "event_type": event_type,
        "lifecycle_stage": lifecycle_stage,
        "after_at": page.after[0] if page.after else None,
        "after_id": page.after[1] if page.after else None,
        "limit": page.fetch_limit,
    }
    # Two canned queries, not one with an optional type: see gone_quiet_by_type.sql.
    query = "gone_quiet" if event_type is None else "gone_quiet_by_type"

    def work(db: MirrorConnection) -> list[dict[str, Any]]:
        return db.fetch(query, params, page.fetch_limit)

    rows, next_cursor = page.finish(
        await run_in_threadpool(read, mirror, response, work),
        lambda r: [r["last_event_at"], r["contact_id"]],
    )
    for row in rows:
        row["last_event_at"] = to_rfc3339(row["last_event_at"])
    return {"items": rows, "next_cursor": next_cursor}


@router.get(
    "/channel-summary",
    response_model=ChannelSummaryPage,
    summary="Event counts per contact",
    description=(
        "One row per contact, by `contact_id`: events per type (all five, 0 included), the "
        "total and the latest event's timestamp. Events after `as_of` do not count."
    ),
)
async def channel_summary(
    response: Response,
    mirror: MirrorDep,
    lifecycle_stage: LifecycleStage = None,
    as_of: AsOf = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    page = start_page(
        "channel_summary",
        {"lifecycle_stage": lifecycle_stage},
        as_of=as_of,
        cursor=cursor,
        limit=limit,
        max_rows=mirror.max_rows,
    )
    params = {
        "as_of": page.as_of,
        "lifecycle_stage": lifecycle_stage,
        "after_id": page.after[0] if page.after else None,
        "limit": page.fetch_limit,
    }

    def work(db: MirrorConnection) -> list[dict[str, Any]]:
        return db.fetch("channel_summary", params, page.fetch_limit)

    rows, next_cursor = page.finish(
        await run_in_threadpool(read, mirror, response, work), lambda r: [r["contact_id"]]
    )
    return {"items": [summary_item(row) for row in rows], "next_cursor": next_cursor}


@router.get(
    "/{contact_id}/summary",
    responses=UNKNOWN_CONTACT,
    response_model=ChannelSummaryRow,
    summary="One contact's event counts",
    description="The channel-summary row of one contact; 404 for an unknown contact.",
)
async def contact_summary(
    contact_id: ContactIdPath,
    response: Response,
    mirror: MirrorDep,
    as_of: AsOf = None,
) -> dict[str, Any]:
    params = {"contact_id": contact_id, "as_of": as_of_text(as_of)}
    rows = read(mirror, response, lambda db: db.fetch("contact_summary", params, 1))
    if not rows:
        raise unknown_contact()
    return summary_item(rows[0])


@router.get(
    "/{contact_id}/timeline",
    responses=UNKNOWN_CONTACT,
    response_model=EventPage,
    summary="One contact's events",
    description=(
        "The contact's ledger rows, newest first (ties: `source_system`, then "
        "`source_record_id`), each with every ledger column and `payload` as an object. "
        "`since` is inclusive, `until` exclusive; events after `as_of` do not count. "
        "404 for an unknown contact."
    ),
)
async def timeline(
    contact_id: ContactIdPath,
    response: Response,
    mirror: MirrorDep,
    event_type: EventTypeFilter = None,
    since: Since = None,
    until: Until = None,
    as_of: AsOf = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    filters = {
        "contact_id": contact_id,
        "event_type": event_type,
        "event_name": None,
        "event_source": None,
    }
    page, params = events_page(
        filters, since=since, until=until, as_of=as_of, cursor=cursor, limit=limit, mirror=mirror
    )

    def work(db: MirrorConnection) -> list[dict[str, Any]] | None:
        rows = db.fetch("timeline", params, page.fetch_limit)
        if not rows and not db.fetch("contact_exists", {"contact_id": contact_id}, 1):
            return None
        return rows

    rows = read(mirror, response, work)
    if rows is None:
        raise unknown_contact()
    rows, next_cursor = page.finish(rows, event_key)
    return {"items": [event_item(row) for row in rows], "next_cursor": next_cursor}

"""The one handler of every canned route (app/canned.py): auth, parameters, paging, the
snapshot, the query, the JSON body.

    authorize (401) -> parameters (400) -> cursor (400) -> [thread pool if long]
    -> connection from the pool (503) -> snapshot: build -> event types (400)
    -> rows (504 past the time limit) -> 404 for an unknown contact -> body

It returns a `Reply` (status, headers, body bytes) and raises `ApiError` for the error
shape; the lean ASGI path (app/fastpath.py) and the documented FastAPI routes
(app/routers/) both call it, so they answer identically. The body is serialised once,
by orjson, from plain dicts; the response models only document it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from app.auth import Authenticator, authorize
from app.canned import Canned, Variant
from app.db import Build, Reader
from app.errors import ApiError
from app.pagination import Page, start_page
from app.params import EventType, check_event_type
from app.pool import Mirror
from app.rows import Row, Shape
from app.timestamps import now_utc, to_mirror

Headers = list[tuple[bytes, bytes]]
JSON_TYPE = (b"content-type", b"application/json")


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Headers
    body: bytes


def unknown_contact() -> ApiError:
    return ApiError(404, "not_found", "no contact with this contact_id", field="contact_id")


class Api:
    """What the handler needs of the app: tokens and the mirror."""

    def __init__(self, auth: Authenticator, mirror: Mirror) -> None:
        self.auth = auth
        self.mirror = mirror
        self._plans: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Plan] = {}

    def plan(
        self, canned: Canned, variant: Variant, columns: tuple[str, ...], build: Build
    ) -> Plan:
        key = (variant.sql, columns, build.event_types)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = Plan(canned, columns, build.event_types)
        return plan


class Plan:
    """A query's result columns -> response items, and its rows' sort key."""

    __slots__ = ("shape", "key")

    def __init__(
        self, canned: Canned, columns: tuple[str, ...], event_types: tuple[str, ...]
    ) -> None:
        self.shape = Shape(columns, canned.transforms, event_types)
        at = [(columns.index(part.column), part.shape == "ts?") for part in canned.key]

        def key(row: Row) -> tuple[str, ...]:
            return tuple(
                ("" if row[i] is None else row[i]) if optional else row[i] for i, optional in at
            )

        self.key = key

    def items(self, rows: list[Row]) -> list[dict[str, Any]]:
        convert, item = self.shape.convert, self.shape.item
        return [item(convert(row)) for row in rows]


async def answer(
    api: Api,
    canned: Canned,
    path: Mapping[str, str],
    query: Iterable[tuple[str, str]],
    authorization: str | None,
    if_none_match: str | None,
) -> Reply:
    authorize(api.auth, authorization)
    values = canned.params.parse(path, query)
    page = None
    if canned.is_list:
        page = start_page(
            canned.kind,
            canned.filters(values),
            canned.shape,
            as_of=values["as_of"],
            cursor=values["cursor"],
            limit=values["limit"],
            max_rows=api.mirror.max_rows,
        )
        as_of = page.as_of
    else:
        as_of = values["as_of"] or to_mirror(now_utc())
    variant = canned.variant(values)
    work = functools.partial(_run, api, canned, variant, values, page, as_of)
    if variant.long:
        return await run_in_threadpool(work)
    return work()


def _run(
    api: Api,
    canned: Canned,
    variant: Variant,
    values: dict[str, Any],
    page: Page | None,
    as_of: str,
) -> Reply:
    with api.mirror.reader() as db:
        build = db.begin()
        try:
            for param in canned.params.params:
                if isinstance(param, EventType):
                    check_event_type(param.name, values[param.name], build.event_types)
            binds = canned.binds(values, as_of)
            if page is None:
                body = _one(api, db, canned, variant, binds, build)
            else:
                body = _page(api, db, canned, variant, binds, page, build)
        finally:
            db.end()
    return Reply(200, [JSON_TYPE, *build.headers()], body)


def _one(
    api: Api, db: Reader, canned: Canned, variant: Variant, binds: dict[str, Any], build: Build
) -> bytes:
    columns, rows = db.rows(variant.sql, binds, 1, time_limited=variant.long)
    if not rows:
        raise unknown_contact()
    plan = api.plan(canned, variant, columns, build)
    return orjson.dumps(plan.items(rows)[0])


def _page(
    api: Api,
    db: Reader,
    canned: Canned,
    variant: Variant,
    binds: dict[str, Any],
    page: Page,
    build: Build,
) -> bytes:
    binds.update(canned.after_binds(page.after))
    binds["limit"] = page.fetch_limit
    columns, rows = db.rows(variant.sql, binds, page.fetch_limit, time_limited=variant.long)
    if not rows and canned.must_exist and not db.rows(canned.must_exist, binds, 1)[1]:
        raise unknown_contact()
    plan = api.plan(canned, variant, columns, build)
    next_cursor = None
    if len(rows) > page.page_size:
        rows = rows[: page.page_size]
        next_cursor = page.next_cursor(plan.key(rows[-1]))
    return orjson.dumps({"items": plan.items(rows), "next_cursor": next_cursor})

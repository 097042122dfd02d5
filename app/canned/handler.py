"""The one handler of every canned route (app/canned/table.py): auth, parameters, paging, the
snapshot, the ETag, the query (or the kept whole answer), the JSON body.

    authorize (401) -> parameters (400) -> cursor (400) -> [thread pool if long]
    -> connection from the pool (503) -> snapshot: build -> event types (400) -> ETag
    (304) -> rows (504 past the time limit) -> 404 for an unknown contact -> body

It returns a `Reply` (status, headers, body bytes) and raises `ApiError` for the error
shape; the lean ASGI path (app/http/fastpath.py) and the documented FastAPI routes
(app/routers/) both call it, so they answer identically. The body is serialised once,
by SQLite: each query returns its items as JSON text and a page is those items joined;
the response models only document it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from ..core.auth import Authenticator, authorize
from ..core.errors import ApiError
from ..core.timestamps import now_utc, to_mirror
from ..pool.db import Build, Reader
from ..pool.mirror import Mirror, VerifyFirst
from . import etag
from .kept import AnswerCache, Segment, estimate_size
from .pagination import Page, start_page
from .params import check_event_type, check_known
from .table import Canned, Variant

Headers = list[tuple[bytes, bytes]]
Row = tuple[Any, ...]
JSON_TYPE = (b"content-type", b"application/json")
# Clients may keep an answer but must revalidate it (If-None-Match); shared caches never
# store one (patient data).
CACHE_CONTROL = (b"cache-control", b"private, no-cache")
KNOWN_VALUES_CAP = 1_000_000  # distinct measures and lifecycle stages, far beyond any practice
# A page ends early, before the item that would take its items past this many bytes of
# JSON (a page holds at least one item, however large); its next_cursor continues after
# its last item. Without it a 1 MB subject x 1,000 rows would be a 1 GB response.
PAGE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Headers
    body: bytes


def unknown_contact() -> ApiError:
    return ApiError(404, "not_found", "no contact with this contact_id", field="contact_id")


class Api:
    """What the handler needs of the app: tokens, the mirror, the kept answers."""

    def __init__(
        self,
        auth: Authenticator,
        mirror: Mirror,
        answers: AnswerCache,
        page_bytes: int = PAGE_BYTES,
    ) -> None:
        self.auth = auth
        self.mirror = mirror
        self.answers = answers
        self.page_bytes = page_bytes
        self._plans: dict[tuple[str, str, tuple[str, ...]], Plan] = {}
        mirror.on_swap(answers.clear)

    def plan(self, canned: Canned, variant: Variant, columns: tuple[str, ...]) -> Plan:
        key = (canned.name, variant.sql, columns)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = Plan(canned, columns)
        return plan


class Plan:
    """Where a query's rows hold their sort key and their response item (JSON text)."""

    __slots__ = ("key", "item")

    def __init__(self, canned: Canned, columns: tuple[str, ...]) -> None:
        at = [
            (columns.index(part.column), part.shape == "ts?")
            for part in canned.key
            if part.column in columns
        ]
        self.item = columns.index("item") if "item" in columns else -1

        def key(row: Row) -> tuple[str, ...]:
            return tuple(
                ("" if row[i] is None else row[i]) if optional else row[i] for i, optional in at
            )

        self.key = key

    def fit(self, rows: list[Row], n: int, budget: int) -> int:
        """How many of the first `n` rows a page holds within `budget` bytes of items (at
        least one, however large)."""
        i = self.item
        size = 0
        for k in range(n):
            item = rows[k][i]
            size += (len(item) if item.isascii() else len(item.encode())) + 1  # the comma
            if size > budget and k:
                return k
        return n

    def page_body(self, rows: list[Row], next_cursor: str | None) -> bytes:
        """`{"items": [...], "next_cursor": ...}` from the rows' items, joined as they are."""
        i = self.item
        items = ",".join([row[i] for row in rows])
        return b"".join(
            (b'{"items":[', items.encode(), b'],"next_cursor":', orjson.dumps(next_cursor), b"}")
        )


@dataclass(frozen=True)
class Question:
    """One request to a canned route, resolved: what to run and for which page."""

    canned: Canned
    variant: Variant
    values: dict[str, Any]
    page: Page | None  # None: a one-item answer
    as_of: str  # mirror text: given, pinned by the cursor, or now

    def sql(
        self, db: Reader, binds: dict[str, Any], cap: int, budget: int | None = None
    ) -> tuple[tuple[str, ...], list]:
        return db.rows(self.variant.sql, binds, cap, time_limited=self.variant.long, budget=budget)


async def answer(
    api: Api,
    canned: Canned,
    path: Mapping[str, str],
    query: Iterable[tuple[str, str]],
    authorization: str | None,
    if_none_match: str | None,
    client: str = "unknown",
) -> Reply:
    authorize(api.auth, authorization, client)
    return await answer_authorized(api, canned, path, query, if_none_match)


async def answer_authorized(
    api: Api,
    canned: Canned,
    path: Mapping[str, str],
    query: Iterable[tuple[str, str]],
    if_none_match: str | None = None,
) -> Reply:
    """`answer` for a caller that has authenticated the request its own way (the pages'
    session cookie, app/http/ui/): everything after the token check, identically."""
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
    q = Question(canned, canned.variant(values), values, page, as_of)
    work = functools.partial(_run, api, q, if_none_match)
    if q.variant.long:
        return await run_in_threadpool(work)
    try:
        return work(blocking=False)
    except VerifyFirst:  # a new mirror file, once: verified in a thread, not on the loop
        return await run_in_threadpool(work)


def _run(api: Api, q: Question, if_none_match: str | None, blocking: bool = True) -> Reply:
    with api.mirror.reader(blocking) as db:
        build = db.begin()
        try:
            for param in q.canned.event_types:
                check_event_type(param.name, q.values[param.name], build.event_types)
            for param in q.canned.known:
                value = q.values[param.name]
                if value is not None and not q.values.get("allow_unseen"):
                    known = api.mirror.memo(build, "known_values", lambda: _known_values(db))
                    check_known(param, value, known.get(param.known, ()))
            tag = _tag(api, db, q, build)
            headers = [*build.headers(), (b"etag", tag.encode()), CACHE_CONTROL]
            if etag.matches(if_none_match, tag):
                return Reply(304, headers, b"")
            binds = q.canned.binds(q.values, q.as_of, build.zero_counts)
            if q.page is None:
                body = _one(api, db, q, binds)
            elif q.canned.whole:
                body = _whole_page(api, db, q, q.page, binds, build)
            else:
                body = _page(api, db, q, q.page, binds)
        finally:
            db.end()
    if etag.is_any(if_none_match):
        return Reply(304, headers, b"")
    return Reply(200, [JSON_TYPE, *headers], body)


def _tag(api: Api, db: Reader, q: Question, build: Build) -> str:
    """The answer's ETag, from what decides it (app/canned/etag.py), before any query runs."""
    as_of_part = q.as_of
    if not q.canned.cutoff_moves_with_as_of:
        newest = api.mirror.memo(build, "newest_event", lambda: _newest_event(db))
        if newest is None or q.as_of >= newest:
            as_of_part = etag.LATEST
    parts: dict[str, Any] = {
        "route": q.canned.name,
        "sql": q.variant.sql,
        "filters": q.canned.filters(q.values),
        "as_of": as_of_part,
        "build": build.identity,
    }
    if q.page is not None:
        parts["page"] = [q.page.page_size, q.page.after]
    return etag.tag_of(parts)


def _known_values(db: Reader) -> dict[str, tuple[str, ...]]:
    """The values each `Known` filter may take: what the mirror has (once per build)."""
    _, rows = db.rows("known_values", {}, KNOWN_VALUES_CAP, time_limited=True)
    found: dict[str, list[str]] = {}
    for kind, value in rows:
        found.setdefault(kind, []).append(value)
    return {kind: tuple(values) for kind, values in found.items()}


def _newest_event(db: Reader) -> str | None:
    _, rows = db.rows("newest_event", {}, 1)
    return rows[0][0] if rows else None


def _one(api: Api, db: Reader, q: Question, binds: dict[str, Any]) -> bytes:
    columns, rows = q.sql(db, binds, 1)
    if not rows:
        raise unknown_contact()
    return str(rows[0][api.plan(q.canned, q.variant, columns).item]).encode()


def _page(api: Api, db: Reader, q: Question, page: Page, binds: dict[str, Any]) -> bytes:
    binds.update(q.canned.after_binds(page.after))
    binds["limit"] = page.fetch_limit
    # Under the page's byte budget the query stops reading soon after the items pass it.
    columns, rows = q.sql(db, binds, page.fetch_limit, budget=api.page_bytes)
    if not rows and q.canned.must_exist and not db.rows(q.canned.must_exist, binds, 1)[1]:
        raise unknown_contact()
    plan = api.plan(q.canned, q.variant, columns)
    kept = plan.fit(rows, min(len(rows), page.page_size), api.page_bytes)
    next_cursor = None
    if kept < len(rows):  # a row beyond the page (its size, or past the budget) follows
        rows = rows[:kept]
        next_cursor = page.next_cursor(plan.key(rows[-1]))
    return plan.page_body(rows, next_cursor)


def _whole_page(
    api: Api, db: Reader, q: Question, page: Page, binds: dict[str, Any], build: Build
) -> bytes:
    """A page of an answer whose order is kept (app/canned/kept.py; computed from the cursor
    on if not kept), its items built for this page alone."""
    key = (q.canned.name, q.variant.sql, page.fp, page.as_of, build.identity)
    segment = api.answers.get(key)
    found = segment.page(page.after, page.page_size) if segment is not None else None
    if found is None:
        with api.answers.computing(key):
            segment = api.answers.get(key)
            found = segment.page(page.after, page.page_size) if segment is not None else None
            if found is None:
                segment = _segment(api, db, q, page, binds)
                api.answers.put(key, segment)
                found = segment.page(page.after, page.page_size)
                assert found is not None  # a fresh segment starts at `after`, covers a page
    assert segment is not None
    rows, next_key = found
    if q.canned.items is None:  # the kept rows carry their items
        items = rows
        plan = api.plan(q.canned, q.variant, segment.columns)
    else:
        # The page's items, built from its rows of the kept order, in the same snapshot
        # (one item per row, in order), read until they pass the page's byte budget.
        columns, items = db.rows(
            q.canned.items,
            {**binds, "rows": orjson.dumps(rows).decode()},
            len(rows) + 1,
            budget=api.page_bytes,
        )
        plan = api.plan(q.canned, Variant(q.canned.items, long=True), columns)
    kept = plan.fit(items, len(items), api.page_bytes)
    if 0 < kept < len(rows):  # the page ends early: continue after its last item's row
        items = items[:kept]
        next_key = segment.key(rows[kept - 1])
    next_cursor = page.next_cursor(next_key) if next_key is not None else None
    return plan.page_body(items, next_cursor)


def _segment(api: Api, db: Reader, q: Question, page: Page, binds: dict[str, Any]) -> Segment:
    """The answer's order after the cursor, up to the row cap (plus one: is there more?)."""
    cap = api.mirror.max_rows
    binds.update(q.canned.after_binds(page.after))
    binds["limit"] = cap + 1
    columns, rows = q.sql(db, binds, cap + 1)
    plan = api.plan(q.canned, q.variant, columns)
    return Segment(page.after, rows, plan.key, len(rows) <= cap, estimate_size(rows), columns)

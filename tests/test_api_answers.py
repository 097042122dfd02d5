"""Whole answers kept for the cursor's life (app/canned/kept.py) change no answer: every page of
needs-form, gone-quiet and channel-summary, over random page sizes, filters and as_of
values, equals the canned query run once on the mirror file -- before a mirror swap, after
it, and for a cursor followed across it (it continues after its key on the new mirror, as
a keyset cursor always has)."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_api_support import as_sent, client_for, make_app

from contact_events.app.canned.table import (
    CHANNEL_SUMMARY,
    GONE_QUIET,
    NEEDS_FORM,
    NO_SESSION,
    Canned,
)
from contact_events.app.core.timestamps import parse_request_timestamp, to_mirror
from contact_events.builder.core.contract import EVENT_TYPES
from contact_events.builder.engine.sql import read_query

INSTANTS = [
    f"2024-0{m}-{d:02d}T{h:02d}:00:00Z" for m in (1, 3, 5, 6) for d in (1, 15) for h in (9, 18)
]
STAGES = ["active", "discharged", "lead"]


def practice(seed: int, contacts: int) -> dict[str, list[dict[str, Any]]]:
    """Contacts with forms, sessions, messages and reminders piled on a few instants."""
    rng = random.Random(seed)
    tables: dict[str, list[dict[str, Any]]] = {
        "contacts": [],
        "measurement_events": [],
        "clinical_sessions": [],
        "messages": [],
        "system_events": [],
    }
    for i in range(contacts):
        cid = f"p{i:03d}"
        email = f"{cid}@Example.org" if i % 5 else f"  {cid.upper()}@example.ORG "
        tables["contacts"].append(
            {"contact_id": cid, "email": email, "first_name": f"F{i}",
             "lifecycle_stage": STAGES[i % 3] if i % 4 else None}
        )  # fmt: skip
        for n in range(rng.randrange(0, 4)):
            tables["measurement_events"].append(
                {"measurement_event_id": f"m{seed}-{i}-{n}", "subject_id": email,
                 "measure_id": rng.choice(["phq9", "gad7"]), "timestamp": rng.choice(INSTANTS)}
            )  # fmt: skip
        for n in range(rng.randrange(0, 3)):
            tables["clinical_sessions"].append(
                {"session_id": f"s{seed}-{i}-{n}", "contact_id": cid,
                 "status": rng.choice(["Session Completed", "Session Cancelled"]),
                 "started_at": rng.choice(INSTANTS)}
            )  # fmt: skip
        for n in range(rng.randrange(0, 3)):
            tables["messages"].append(
                {"message_id": f"x{seed}-{i}-{n}", "channel": "sms", "direction": "inbound",
                 "contact_id": cid, "sent_at": rng.choice(INSTANTS)}
            )  # fmt: skip
        if rng.random() < 0.3:
            tables["system_events"].append(
                {"system_event_id": f"y{seed}-{i}", "contact_id": cid,
                 "event_name": "Form Reminder Sent", "occurred_at": rng.choice(INSTANTS)}
            )  # fmt: skip
    return tables


@pytest.fixture(scope="module")
def mirrors(tmp_path_factory):
    """Two different mirrors (A, B) as files to swap in, and the path the app serves."""
    from conftest import build_mirror

    root = tmp_path_factory.mktemp("answers")
    settings_a, _, _ = build_mirror(root / "a", practice(1, 70))
    settings_b, _, _ = build_mirror(root / "b", practice(2, 55))
    served = settings_a.model_copy(update={"mirror_path": root / "served.db"})
    return Path(settings_a.mirror_path), Path(settings_b.mirror_path), served


def swap_in(source: Path, served: Path) -> None:
    """What sync does: a whole new file, replaced atomically."""
    tmp = served.with_name(served.name + ".new")
    shutil.copyfile(source, tmp)
    os.replace(tmp, served)


def single_query(path: Path, canned: Canned, values: dict[str, Any], as_of: str) -> list[dict]:
    """The route's canned SQL run once on the file, no page: its items, in order (for a
    route kept as an order, the order once and the items of all its rows at once)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.executescript(read_query("api/views"))  # as app/pool/db.py does
    try:
        zero_counts = json.dumps(dict.fromkeys(EVENT_TYPES, 0))
        binds = {**canned.binds(values, as_of, zero_counts), **canned.after_binds(None)}
        cursor = con.execute(
            read_query(f"api/{canned.variant(values).sql}"), {**binds, "limit": -1}
        )
        rows = cursor.fetchall()
        if canned.items is not None:
            cursor = con.execute(
                read_query(f"api/{canned.items}"), {**binds, "rows": json.dumps(rows)}
            )
            rows = cursor.fetchall()
        columns = [d[0] for d in cursor.description]
        return [json.loads(row[columns.index("item")]) for row in rows]
    finally:
        con.close()


def key_of(canned: Canned, item: dict[str, Any]) -> tuple[str, ...]:
    """An item's sort key (RFC 3339 sorts as the mirror text does: fixed width)."""
    return tuple("" if item[part.column] is None else item[part.column] for part in canned.key)


ROUTES = {
    "needs_form": st.fixed_dictionaries(
        {
            "days": st.integers(0, 200),
            "measure": st.sampled_from([None, "phq9", "gad7"]),
            "lifecycle_stage": st.sampled_from([None, *STAGES]),
        }
    ),
    "gone_quiet": st.fixed_dictionaries(
        {
            "days": st.integers(0, 200),
            "event_type": st.sampled_from([None, "form", "session", "message", "system"]),
            "lifecycle_stage": st.sampled_from([None, *STAGES]),
        }
    ),
    "no_session": st.fixed_dictionaries(
        {"days": st.integers(0, 200), "lifecycle_stage": st.sampled_from([None, *STAGES])}
    ),
    "channel_summary": st.fixed_dictionaries({"lifecycle_stage": st.sampled_from([None, *STAGES])}),
}
BY_NAME = {c.name: c for c in (NEEDS_FORM, GONE_QUIET, NO_SESSION, CHANNEL_SUMMARY)}
AS_OF = st.one_of(
    st.sampled_from(INSTANTS),
    st.sampled_from(INSTANTS).map(lambda t: t.replace(":00:00Z", ":00:00.000001Z")),
    st.sampled_from(["2024-12-31T00:00:00Z", "2023-12-31T00:00:00Z", "2024-04-01T12:34:56Z"]),
)


def walk(api, canned: Canned, params: dict[str, Any], limit: int, pages: int | None = None):
    """Follow next_cursor from the first page: (items, the cursor left, if any)."""
    method = getattr(api, canned.name)
    page_size = min(limit, api.max_rows)
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = method(**params, limit=limit, cursor=cursor)
        assert len(page.items) <= page_size
        assert page.items or not items  # a next_cursor never leads to an empty page
        items.extend(as_sent(row) for row in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return items, None
        assert len(page.items) == page_size
        if pages is not None and (pages := pages - 1) == 0:
            return items, cursor


@pytest.mark.parametrize("max_rows", [50000, 9])
def test_every_page_equals_the_single_query_on_both_sides_of_a_swap(mirrors, max_rows):
    path_a, path_b, conf = mirrors
    served = Path(conf.mirror_path)
    swap_in(path_a, served)
    test_client, api = client_for(make_app(conf, max_rows=max_rows))
    api.max_rows = max_rows

    @settings(
        max_examples=40 if max_rows > 100 else 20,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.sampled_from(list(ROUTES)).flatmap(lambda name: st.tuples(st.just(name), ROUTES[name])),
        AS_OF,
        st.integers(1, 12),
        st.integers(1, 4),
    )
    def check(route, as_of, limit, before_swap):
        name, filters = route
        canned = BY_NAME[name]
        swap_in(path_a, served)
        params = {k: v for k, v in filters.items() if v is not None}
        mirror_as_of = to_mirror(parse_request_timestamp(as_of))
        values = {**{p.name: p.default for p in canned.params.params}, **filters}
        whole_a = single_query(path_a, canned, values, mirror_as_of)
        whole_b = single_query(path_b, canned, values, mirror_as_of)
        page_size = min(limit, max_rows)
        # Every page on A, and again (the kept answer now), equals the single query.
        assert walk(api, canned, {**params, "as_of": as_of}, limit)[0] == whole_a
        assert walk(api, canned, {**params, "as_of": as_of}, limit)[0] == whole_a
        # A few pages on A, the swap, the same cursor on B: B's rows after the last key.
        seen, cursor = walk(api, canned, {**params, "as_of": as_of}, limit, before_swap)
        assert seen == whole_a[: len(seen)]
        swap_in(path_b, served)
        if cursor is not None:
            rest, _ = walk_from(api, canned, params, page_size, cursor)
            last = key_of(canned, seen[-1])
            assert rest == [row for row in whole_b if key_of(canned, row) > last]
        # A new walk on B equals B's single query.
        assert walk(api, canned, {**params, "as_of": as_of}, limit)[0] == whole_b

    with test_client:
        check()


def walk_from(api, canned: Canned, params: dict[str, Any], limit: int, cursor: str):
    method = getattr(api, canned.name)
    items: list[dict[str, Any]] = []
    while cursor is not None:
        page = method(**params, limit=limit, cursor=cursor)
        assert len(page.items) == limit or page.next_cursor is None
        items.extend(as_sent(row) for row in page.items)
        cursor = page.next_cursor
    return items, None


def test_kept_answers_are_bounded_and_let_go_on_swap(mirrors):
    path_a, path_b, conf = mirrors
    served = Path(conf.mirror_path)
    swap_in(path_a, served)
    app = make_app(conf)
    cache = app.state.api.answers
    test_client, api = client_for(app)
    api.max_rows = 50000
    with test_client:
        walk(api, NEEDS_FORM, {"days": 30, "as_of": INSTANTS[-1]}, 5)
        walk(api, GONE_QUIET, {"days": 30, "as_of": INSTANTS[-1]}, 5)
        walk(api, CHANNEL_SUMMARY, {"as_of": INSTANTS[-1]}, 5)  # pages seek: nothing kept
        assert len(cache) == 2 and cache.bytes > 0
        swap_in(path_b, served)
        api.needs_form(30, as_of=INSTANTS[-1], limit=5)  # the next request sees the swap
        assert len(cache) == 1  # only the new mirror's answer
        cache.max_bytes = cache.bytes  # no room for a second answer
        walk(api, GONE_QUIET, {"days": 1, "as_of": INSTANTS[-1]}, 5)
        assert len(cache) == 1 and cache.bytes <= cache.max_bytes


def test_a_first_page_builds_only_its_own_items(mirrors, monkeypatch):
    """The order of a whole answer is kept; items are built page by page, so a client
    that reads one page of 5 pays for 5 items, not for every row of the answer."""
    from contact_events.app.pool.db import Reader

    path_a, _, conf = mirrors
    swap_in(path_a, Path(conf.mirror_path))
    seen: list[tuple[str, int]] = []
    rows = Reader.rows

    def counting(self, name, params, cap, **kw):
        columns, found = rows(self, name, params, cap, **kw)
        seen.append((name, len(found)))
        return columns, found

    monkeypatch.setattr(Reader, "rows", counting)
    test_client, api = client_for(make_app(conf))
    with test_client:
        page = api.needs_form(30, as_of=INSTANTS[-1], limit=5)
    assert len(page.items) == 5
    order = [n for name, n in seen if name == "needs_form"]
    items = [n for name, n in seen if name == "needs_form_items"]
    assert order and order[0] > 5  # the whole order, once
    assert items == [5]

"""Keyset pagination on every list route: no duplicate, no missing row, ties included."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from test_api_support import AS_OF, as_sent, client_for, make_app

from contact_events_client import ContactEventsAPIError, ContactEventsClient
from contact_events_client.models import LedgerEvent

T = [
    "2024-06-01T10:00:00Z",
    "2024-05-01T10:00:00Z",
    "2024-04-01T10:00:00Z",
    "2024-03-01T10:00:00Z",
    "2024-02-01T10:00:00Z",
]


def paging_tables() -> dict[str, list[dict[str, Any]]]:
    """30 contacts; forms and events pile up on five instants so ties are everywhere."""
    contacts, forms, system, messages, sessions = [], [], [], [], []
    for i in range(30):
        cid = f"p{i:02d}"
        stage = ("active", "discharged", "lead")[i % 3]
        contacts.append(
            {"contact_id": cid, "email": f"{cid}@example.org", "lifecycle_stage": stage}
        )
        if i % 7:  # every 7th contact has no form at all (null last_form_at)
            forms.append(
                {
                    "measurement_event_id": f"m{i:02d}",
                    "subject_id": f"{cid}@example.org",
                    "measure_id": "phq9" if i % 2 else "gad7",
                    "timestamp": T[i % 5],
                }
            )
        if i % 4:  # others get sessions on the same five instants
            sessions.append(
                {
                    "session_id": f"s{i:02d}",
                    "contact_id": cid,
                    "status": "Session Completed",
                    "started_at": T[(i + 2) % 5],
                }
            )
    # p00: 35 events on five instants (ties inside and across source systems).
    for k in range(5):
        for j in range(4):
            system.append(
                {
                    "system_event_id": f"y{k}{j}",
                    "contact_id": "p00",
                    "event_name": "Form Reminder Sent",
                    "occurred_at": T[k],
                }
            )
        for j in range(3):
            messages.append(
                {
                    "message_id": f"x{k}{j}",
                    "channel": "sms",
                    "direction": "outbound",
                    "contact_id": "p00",
                    "sent_at": T[k],
                }
            )
    # orphans on the same instants
    for k in range(5):
        system.append(
            {
                "system_event_id": f"o{k}",
                "contact_email": "ghost@example.org",
                "event_name": "Form Reminder Sent",
                "occurred_at": T[k],
            }
        )
    return {
        "contacts": contacts,
        "measurement_events": forms,
        "clinical_sessions": sessions,
        "system_events": system,
        "messages": messages,
    }


@pytest.fixture(scope="module")
def paged(tmp_path_factory):
    from conftest import build_mirror

    settings, _, _ = build_mirror(tmp_path_factory.mktemp("paging"), paging_tables())
    test_client, client = client_for(make_app(settings))
    with test_client:
        yield client


def all_pages(fetch, limit: int, **params: Any) -> list[Any]:
    items: list[Any] = []
    cursor = None
    for _ in range(1000):
        page = fetch(limit=limit, cursor=cursor, **params)
        assert len(page.items) <= limit
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return items
        assert len(page.items) == limit  # only the last page may be short
    raise AssertionError("pagination did not end")


def event_key(e: LedgerEvent) -> tuple[str, str, str]:
    return (as_sent(e.event_timestamp), e.source_system, e.source_record_id)


def assert_event_order(items: list[LedgerEvent]) -> None:
    keys = [event_key(e) for e in items]
    expected = sorted(keys, key=lambda k: (k[1], k[2]))
    expected.sort(key=lambda k: k[0], reverse=True)  # stable: newest first, ties ascending
    assert keys == expected


ROUTES = [
    ("needs_form", {"days": 14}),
    ("needs_form", {"days": 14, "measure": "phq9"}),
    ("needs_form", {"days": 40, "lifecycle_stage": "active"}),
    ("gone_quiet", {"days": 10}),
    ("gone_quiet", {"days": 10, "event_type": "session"}),
    ("channel_summary", {}),
    ("channel_summary", {"lifecycle_stage": "lead"}),
]


@pytest.mark.parametrize(("method", "params"), ROUTES)
@pytest.mark.parametrize("limit", [1, 2, 7])
def test_contact_lists_paginate_completely(paged: ContactEventsClient, method, params, limit):
    fetch = getattr(paged, method)
    whole = fetch(limit=1000, as_of=AS_OF, **params)
    assert whole.next_cursor is None
    assert len(whole.items) >= 3
    pages = all_pages(fetch, limit, as_of=AS_OF, **params)
    assert pages == whole.items
    assert len({row.contact_id for row in pages}) == len(pages)


def test_contact_list_orders(paged: ContactEventsClient):
    needs = paged.needs_form(14, as_of=AS_OF, limit=1000).items
    keys = [(as_sent(r.last_form_at) or "", r.contact_id) for r in needs]
    assert keys == sorted(keys)
    assert needs[0].last_form_at is None
    quiet = paged.gone_quiet(10, as_of=AS_OF, limit=1000).items
    keys = [(as_sent(r.last_event_at), r.contact_id) for r in quiet]
    assert keys == sorted(keys)
    summary = paged.channel_summary(as_of=AS_OF, limit=1000).items
    assert [r.contact_id for r in summary] == [f"p{i:02d}" for i in range(30)]


@pytest.mark.parametrize("limit", [1, 3, 4, 7, 35])
def test_timeline_paginates_across_ties(paged: ContactEventsClient, limit):
    whole = paged.timeline("p00", limit=1000).items
    assert len(whole) == 35  # p00 has neither form (0 % 7) nor session (0 % 4)
    assert_event_order(whole)
    assert all_pages(lambda **kw: paged.timeline("p00", **kw), limit) == whole
    assert list(paged.iter_timeline("p00", limit=limit)) == whole


@pytest.mark.parametrize("limit", [1, 4, 9])
def test_events_paginate_across_ties(paged: ContactEventsClient, limit):
    whole = paged.events(limit=1000).items
    assert_event_order(whole)
    assert sum(1 for e in whole if e.contact_id is None) == 5
    assert all_pages(paged.events, limit) == whole
    assert list(paged.iter_events(limit=limit)) == whole
    reminders = paged.events(limit=1000, event_name="Form Reminder Sent").items
    assert len(reminders) == 25
    assert all_pages(paged.events, limit, event_name="Form Reminder Sent") == reminders
    mine = paged.events(limit=1000, contact_id="p00", event_type="message").items
    assert len(mine) == 15
    assert all_pages(paged.events, limit, contact_id="p00", event_type="message") == mine


def test_iterators_follow_cursors(paged: ContactEventsClient):
    assert (
        list(paged.iter_needs_form(14, as_of=AS_OF, limit=2))
        == paged.needs_form(14, as_of=AS_OF, limit=1000).items
    )
    assert (
        list(paged.iter_gone_quiet(10, as_of=AS_OF, limit=2))
        == paged.gone_quiet(10, as_of=AS_OF, limit=1000).items
    )
    assert list(paged.iter_channel_summary(limit=4)) == paged.channel_summary(limit=1000).items


def test_row_cap_shrinks_pages_but_keeps_every_row(tmp_path):
    from conftest import build_mirror

    settings, _, _ = build_mirror(tmp_path, paging_tables())
    test_client, client = client_for(make_app(settings, max_rows=3))
    with test_client:
        page = client.events(limit=1000)
        assert len(page.items) == 3 and page.next_cursor is not None
        # p00's 35 + 25 forms + 22 sessions + 5 orphans
        assert len(list(client.iter_events(limit=1000))) == 35 + 25 + 22 + 5
        assert len(client.channel_summary(limit=100).items) == 3


# -- cursor integrity ------------------------------------------------------------------


def decode(cursor: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


def expect_bad_cursor(call) -> ContactEventsAPIError:
    with pytest.raises(ContactEventsAPIError) as err:
        call()
    assert (err.value.status, err.value.code, err.value.field) == (400, "invalid_cursor", "cursor")
    return err.value


def test_cursor_pins_as_of(paged: ContactEventsClient):
    first = paged.events(limit=2)
    assert first.next_cursor is not None
    payload = decode(first.next_cursor)
    assert payload["a"] > "2024"  # the defaulted "now" of the first page
    # The same cursor with an explicit, different as_of is refused...
    expect_bad_cursor(lambda: paged.events(limit=2, cursor=first.next_cursor, as_of=AS_OF))
    # ...with no as_of it continues at the pinned instant.
    second = paged.events(limit=2, cursor=first.next_cursor)
    assert first.items + second.items == paged.events(limit=4).items


def test_foreign_or_tampered_cursors_are_400(paged: ContactEventsClient):
    cursor = paged.needs_form(14, as_of=AS_OF, limit=1).next_cursor
    assert cursor is not None
    # another route, other filters
    expect_bad_cursor(lambda: paged.gone_quiet(14, as_of=AS_OF, cursor=cursor))
    expect_bad_cursor(lambda: paged.needs_form(15, as_of=AS_OF, cursor=cursor))
    expect_bad_cursor(lambda: paged.needs_form(14, measure="x", as_of=AS_OF, cursor=cursor))
    payload = decode(cursor)
    tampered = [
        {**payload, "v": 2},
        {**payload, "s": ["2024-01-01", "p00"]},  # not the mirror's timestamp form
        {**payload, "s": ["", "p00", "extra"]},
        {**payload, "s": [1, "p00"]},
        {**payload, "s": "p00"},
        {**payload, "a": "yesterday"},
        {**payload, "f": "0" * 16},
        [payload],
    ]
    for bad in tampered:
        expect_bad_cursor(lambda bad=bad: paged.needs_form(14, cursor=encode(bad)))
    for junk in ("x", "!!!!", "e30", "bnVsbA", cursor[:-3], cursor + "AAAA", "é", "a" * 20000):
        expect_bad_cursor(lambda junk=junk: paged.needs_form(14, as_of=AS_OF, cursor=junk))
    events_cursor = paged.events(limit=1).next_cursor
    assert events_cursor is not None
    # timeline and /events share a sort key; the filters (contact_id) still must match
    expect_bad_cursor(lambda: paged.timeline("p00", cursor=events_cursor))
    payload = decode(events_cursor)
    payload["s"][0] = "2024-13-45 99:99:99.999999"
    # well-formed text in the mirror's shape is only ever compared as text: still fine
    paged.events(limit=1, cursor=encode(payload))

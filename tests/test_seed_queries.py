"""The analyst's seed queries (tests/seed_queries/*.sql) run unmodified against a mirror
built from canonical rows dated relative to now, and return exactly the right rows."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import PRACTICE, build_mirror

QUERIES = Path(__file__).resolve().parent / "seed_queries"
NOW = datetime.now(UTC).replace(microsecond=0)
MIRROR_FMT = "%Y-%m-%d %H:%M:%S.%f"


def at(days: float, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


def iso(moment: datetime, offset_hours: int = 0) -> str:
    """RFC 3339 text for an instant, written in a given UTC offset."""
    local = moment.astimezone(timezone(timedelta(hours=offset_hours)))
    return local.isoformat()


def mirror_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(MIRROR_FMT)


def contact(cid, first, stage="active"):
    return {
        "contact_id": cid,
        "email": f"{first.lower()}@example.org",
        "first_name": first,
        "last_name": "Test",
        "lifecycle_stage": stage,
    }


CONTACTS = [
    contact("a1", "Ann"),
    contact("a2", "Ben"),
    contact("a3", "Cat"),
    contact("a4", "Dan", stage="discharged"),
    contact("a5", "Eve"),
    contact("a6", "Gus"),
    contact("a7", "Hal"),
]

T = {
    "ann_form": at(20),
    "ann_session": at(2),
    "ann_email": at(5),
    "ann_msg": at(0, hours=1),
    "ben_form_new": at(3),
    "ben_form_old": at(45),
    "cat_msg": at(1),
    "dan_form": at(40),
    "eve_form": at(15),
    "gus_form": at(14, hours=3),  # written in +05:00: reads as 13d22h ago if offsets were ignored
    "hal_form": at(20, hours=-1),
    "orphan_form": at(1),
}

FORMS = [
    {"measurement_event_id": "f-ann", "subject_id": "ann@example.org", "measure_id": "phq9",
     "timestamp": iso(T["ann_form"])},
    {"measurement_event_id": "f-ben-new", "subject_id": "BEN@example.org", "measure_id": "gad7",
     "timestamp": iso(T["ben_form_new"], -5)},
    {"measurement_event_id": "f-ben-old", "subject_id": "ben@example.org", "measure_id": "phq9",
     "timestamp": iso(T["ben_form_old"])},
    {"measurement_event_id": "f-dan", "subject_id": "dan@example.org", "measure_id": "phq9",
     "timestamp": iso(T["dan_form"])},
    {"measurement_event_id": "f-eve", "subject_id": "eve@example.org", "measure_id": "phq9",
     "timestamp": iso(T["eve_form"], 2)},
    {"measurement_event_id": "f-gus", "subject_id": "gus@example.org", "measure_id": "phq9",
     "timestamp": iso(T["gus_form"], 5)},
    {"measurement_event_id": "f-hal", "subject_id": " Hal@Example.org", "measure_id": "phq9",
     "timestamp": iso(T["hal_form"])},
    {"measurement_event_id": "f-orphan", "subject_id": "stranger@example.org", "measure_id": "phq9",
     "timestamp": iso(T["orphan_form"])},
]  # fmt: skip
SESSIONS = [
    {"session_id": "s-ann", "contact_id": "a1", "status": "Session Completed", "session_num": 3,
     "started_at": iso(T["ann_session"], 1)},
]  # fmt: skip
EMAILS = [
    {"email_event_id": "e-ann", "provider": "gmail", "from_email": PRACTICE,
     "to_emails": ["ann@example.org"], "subject": "Your form", "sent_at": iso(T["ann_email"])},
]  # fmt: skip
MESSAGES = [
    {"message_id": "m-ann", "channel": "sms", "direction": "inbound", "contact_id": "a1",
     "sent_at": iso(T["ann_msg"])},
    {"message_id": "m-cat", "channel": "whatsapp", "direction": "outbound", "contact_id": "a3",
     "sent_at": iso(T["cat_msg"])},
]  # fmt: skip
SYSTEM = [  # same instant as Ann's session: ties are ordered by source_system, record id
    {"system_event_id": "y-ann-2", "contact_id": "a1", "event_name": "Form Reminder Sent",
     "occurred_at": iso(T["ann_session"])},
    {"system_event_id": "y-ann-1", "contact_id": "a1", "event_name": "Form Reminder Sent",
     "occurred_at": iso(T["ann_session"], -3)},
]  # fmt: skip


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    settings, _, _ = build_mirror(
        tmp_path_factory.mktemp("seed"),
        {
            "contacts": CONTACTS,
            "measurement_events": FORMS,
            "clinical_sessions": SESSIONS,
            "email_events": EMAILS,
            "messages": MESSAGES,
            "system_events": SYSTEM,
        },
    )
    con = sqlite3.connect(f"file:{settings.mirror_path}?mode=ro", uri=True)
    yield con
    con.close()


def run(con: sqlite3.Connection, name: str, **params: object) -> list[tuple[object, ...]]:
    sql = (QUERIES / name).read_text(encoding="utf-8")
    return con.execute(sql, params).fetchall()


def test_needs_form_14_days(mirror):
    def row(cid, first, moment):
        return (cid, f"{first.lower()}@example.org", first, "Test", moment and mirror_ts(moment))

    assert run(mirror, "needs_form_14_days.sql") == [
        row("a3", "Cat", None),  # never filled one in
        row("a1", "Ann", T["ann_form"]),
        row("a7", "Hal", T["hal_form"]),
        row("a5", "Eve", T["eve_form"]),
        row("a6", "Gus", T["gus_form"]),
    ]


def test_client_timeline_newest_first(mirror):
    rows = run(mirror, "client_timeline.sql", contact_id="a1")
    assert [(r[0], r[1], r[4], r[5]) for r in rows] == [
        (mirror_ts(T["ann_msg"]), "message", "canonical.messages", "m-ann"),
        (mirror_ts(T["ann_session"]), "session", "canonical.clinical_sessions", "s-ann"),
        (mirror_ts(T["ann_session"]), "system", "canonical.system_events", "y-ann-1"),
        (mirror_ts(T["ann_session"]), "system", "canonical.system_events", "y-ann-2"),
        (mirror_ts(T["ann_email"]), "email", "canonical.email_events", "e-ann"),
        (mirror_ts(T["ann_form"]), "form", "measurement_events", "f-ann"),
    ]
    assert rows[4][2] == "outbound: Your form"
    assert run(mirror, "client_timeline.sql", contact_id="a4")[0][5] == "f-dan"
    assert run(mirror, "client_timeline.sql", contact_id="nobody") == []


def test_channel_summary(mirror):
    def row(cid, first, kind, n, recent, last):
        return (cid, first, "Test", kind, n, recent, mirror_ts(last))

    assert run(mirror, "channel_summary.sql") == [
        row("a1", "Ann", "email", 1, 1, T["ann_email"]),
        row("a1", "Ann", "form", 1, 1, T["ann_form"]),
        row("a1", "Ann", "message", 1, 1, T["ann_msg"]),
        row("a1", "Ann", "session", 1, 1, T["ann_session"]),
        row("a1", "Ann", "system", 2, 2, T["ann_session"]),
        row("a2", "Ben", "form", 2, 1, T["ben_form_new"]),
        row("a3", "Cat", "message", 1, 1, T["cat_msg"]),
        row("a4", "Dan", "form", 1, 0, T["dan_form"]),
        row("a5", "Eve", "form", 1, 1, T["eve_form"]),
        row("a6", "Gus", "form", 1, 1, T["gus_form"]),
        row("a7", "Hal", "form", 1, 1, T["hal_form"]),
    ]


def test_seed_queries_are_plain_sqlite_with_datetime_now(mirror):
    for name in ("needs_form_14_days.sql", "channel_summary.sql"):
        assert "DATETIME('now'" in (QUERIES / name).read_text(encoding="utf-8")

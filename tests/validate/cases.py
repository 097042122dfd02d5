"""The hand-written traps of tests/validate/ and the helpers that build and check them.

Hand-written canonical rows hold one trap per rule of CONTRACT §1-3 (`TABLES`); the
hand-written answer says what the reference path must make of each (`EXPECTED_REASONS`,
`EXPECTED_FIELDS`, `EXPECTED_CONTACTS`). `build` runs the real build (DuckDB + SQLite) on
them, `run` validates it, `mutate` changes the warehouse or the mirror behind its back.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import PRACTICE, make_settings, write_canonicals
from contact_events.builder.core.config import Settings
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.pipeline import rebuild
from contact_events.builder.stages.load import load_directory
from contact_events.builder.validate.api import validate
from contact_events.builder.validate.findings import WAREHOUSE, Finding, ValidationResult

FORMS = "measurement_events"
SESSIONS = "canonical.clinical_sessions"
EMAILS = "canonical.email_events"
MESSAGES = "canonical.messages"
SYSTEM = "canonical.system_events"

T0 = "2024-03-01T10:00:00Z"

CONTACTS = [
    {"contact_id": "c1", "email": " Ann@Example.ORG ", "first_name": "Ann", "updated_at": T0},
    {"contact_id": "c2", "email": "bob@example.org", "first_name": "Bob", "updated_at": T0},
    {"contact_id": "c3", "email": "couple@example.org", "first_name": "Cy"},
    {"contact_id": "c4", "email": " COUPLE@example.org", "first_name": "Di"},
    # c5 twice: the -05:00 row is the later instant (11:00Z), although its text sorts first.
    {
        "contact_id": "c5",
        "email": "eve.new@example.org",
        "lifecycle_stage": "discharged",
        "updated_at": "2024-01-01T06:00:00-05:00",
    },
    {
        "contact_id": "c5",
        "email": "eve.old@example.org",
        "lifecycle_stage": "active",
        "updated_at": "2024-01-01T10:00:00Z",
    },
    # c6 twice with the same updated_at: the smaller content (email) wins, in any order.
    {"contact_id": "c6", "email": "zed@example.org", "updated_at": T0},
    {"contact_id": "c6", "email": "fay@example.org", "updated_at": T0},
    # c7: an unparseable updated_at loses to a real one.
    {"contact_id": "c7", "email": "gus@example.org", "updated_at": "2024-01-01"},
    {"contact_id": "c7", "email": "gus.bad@example.org", "updated_at": "someday"},
    {"contact_id": "", "email": "nobody1@example.org"},  # ignored: empty id
    {"email": "nobody2@example.org"},  # ignored: no id
    {"contact_id": "c8", "first_name": "No", "last_name": "Mail"},
]


def form(record_id, subject, ts=T0, created=T0, measure="phq9", **extra):
    row = {"subject_id": subject, "measure_id": measure, "timestamp": ts, "created_at": created}
    if record_id is not ...:
        row["measurement_event_id"] = record_id
    row.update(extra)
    return row


FORM_ROWS = [
    form("f01", " ANN@example.org ", ts="2024-03-01T10:00:00+02:00", form_id="F", binding_id=""),
    form("f02", "couple@example.org"),  # ambiguous
    form("f03", "stranger@example.org"),  # orphan, kept
    form("f04", None),  # orphan without an email
    form("f05", "ann@example.org", ts=""),  # missing
    form("f06", "ann@example.org", ts="   "),  # missing (blank)
    form("f07", "ann@example.org", ts="2024-02-30"),  # no such day
    form("f08", "ann@example.org", ts="2024-03-01T24:00:00"),  # no such hour
    form("f09", "ann@example.org", ts="yesterday"),
    form("f10", "ann@example.org", ts="03/01/2024"),
    form("f11", "ann@example.org", ts="2024-03-01"),  # midnight UTC
    form("f12", "ann@example.org", ts="2024-03-01 10:00:00"),  # naive = UTC
    form("f13", "ann@example.org", ts="2024-03-01T10:00:00.5"),
    form("f14", "ann@example.org", ts="\t 2024-03-01T10:00:00Z \n"),
    form("f15", "ann@example.org", ts="2024-03-01T10:00:00.123456-05:30"),
    form(..., "ann@example.org"),  # no id key
    form(None, "ann@example.org"),
    form("", "ann@example.org", ts="garbage"),  # missing id wins over bad timestamp
    form("", "ann@example.org"),  # never collapsed with the one above
    # duplicates: later instant wins although its text sorts first (and is written first)
    form("f20", "ann@example.org", measure="phq9", created="2024-03-02T06:00:00-05:00"),
    form("f20", "ann@example.org", measure="gad7", created="2024-03-02T10:00:00Z"),
    # ... and written last
    form("f21", "ann@example.org", measure="gad7", created="2024-03-02T10:00:00Z"),
    form("f21", "ann@example.org", measure="phq9", created="2024-03-02T06:00:00-05:00"),
    form("f22", "ann@example.org"),  # exact duplicates
    form("f22", "ann@example.org"),
    form("f23", "ann@example.org", measure="b"),  # equal created_at: smallest content
    form("f23", "ann@example.org", measure="a"),
    form("f24", "ann@example.org", measure="newer-null", created=None),  # null loses
    form("f24", "ann@example.org", measure="dated", created="2020-01-01"),
    form("f25", "ann@example.org", measure="bad-created", created="soon"),  # unparseable loses
    form("f25", "ann@example.org", measure="good-created", created="2019-01-01"),
    # the winner's timestamp is bad, the loser's good: bad_timestamp, no mixing
    form("f26", "ann@example.org", ts="nope", created="2024-03-03T00:00:00Z"),
    form("f26", "ann@example.org", ts=T0, created="2024-03-02T00:00:00Z"),
    form("f27", "ann@example.org", ts="2024-03-01T10:00:00+14:30"),  # offset out of range
    form("f28", "ann@example.org", measure=""),  # '' event_name is null
]

SESSION_ROWS = [
    {
        "session_id": "s01",
        "contact_id": "c1",
        "status": "Session Completed",
        "session_num": 3,
        "idem_key": "k1",
        "started_at": T0,
    },
    {"session_id": "s02", "contact_id": "nope", "started_at": T0},  # unknown contact
    {"session_id": "s03", "contact_id": "c2", "started_at": "", "ended_at": "2024-03-01T11:00:00Z"},
    {
        "session_id": "s04",
        "contact_id": "c2",
        "ended_at": "  ",
        "created_at": "2024-03-01T12:00:00Z",
    },
    {"session_id": "s05", "contact_id": "c2", "started_at": "garbage", "ended_at": T0},
    {"session_id": "s06", "status": "Booked", "started_at": T0},  # orphan, no contact_id
    {"session_id": "s07", "contact_id": "", "started_at": T0},  # '' contact_id = none
    {"session_id": "s08", "contact_id": "c2"},  # no timestamp at all
    {"session_id": "s09", "contact_id": "nope", "started_at": "garbage"},  # bad ts first
    {"session_id": "s10", "contact_id": "C1", "started_at": T0},  # ids are not normalised
    {"session_id": "s11", "contact_id": "c5", "started_at": T0, "status": "", "idem_key": ""},
    {"session_id": "s12", "contact_id": "c8", "started_at": T0},  # contact without email
]

LONG = "Überweisung für die Sitzung — 診療予約の確認 ça va? Ω ß 🙂 and then some more text"


def mail(record_id, from_email, to_emails=None, subject=None, **extra):
    row = {
        "email_event_id": record_id,
        "provider": "gmail",
        "from_email": from_email,
        "to_emails": to_emails,
        "subject": subject,
        "sent_at": T0,
        "created_at": T0,
    }
    row.update(extra)
    return row


EMAIL_ROWS = [
    mail(
        "e01",
        " FRONT@practice.example ",
        [" Ann@Example.org ", "bob@example.org"],
        "Your appointment",
        thread_id="t1",
        labels=["SENT", "Important"],
    ),
    mail(
        "e02",
        " Bob@Example.ORG ",
        [PRACTICE],
        "Re: Your appointment",
        provider="outlook",
        labels=[],
    ),
    mail("e03", PRACTICE, [], "to nobody"),  # outbound without recipient: orphan
    mail("e04", None, [PRACTICE], "from nobody"),  # inbound without sender: orphan
    mail("e05", "ann@example.org", None, ""),  # (no subject), payload subject null
    mail("e06", "ann@example.org", None, None),
    mail("e07", "ann@example.org", None, LONG),  # cut at 50 code points
    mail("e08", "ann@example.org", None, "  padded  ", provider=""),  # not trimmed
    mail("e09", PRACTICE, ["couple@example.org"], "hi both"),  # ambiguous
    mail("e10", PRACTICE, [PRACTICE], "note to self"),  # orphan: practice address
    mail("e11", "front@practice.example.evil.com", ["ann@example.org"], "phish"),  # inbound
    mail("e12", PRACTICE, [None, "ann@example.org"], "first recipient null"),  # orphan
]


def msg(record_id, **extra):
    row = {
        "message_id": record_id,
        "channel": "sms",
        "direction": "outbound",
        "sent_at": T0,
        "created_at": T0,
    }
    row.update(extra)
    return row


MESSAGE_ROWS = [
    msg("m01", contact_id="c2"),  # contact_email from the contact
    msg("m02", contact_email=" ANN@example.org ", body_preview="hi"),
    msg("m03", contact_id="c1", direction=" Outbound ", channel="whatsapp"),
    msg("m04", contact_id="c1", direction="sideways"),  # unknown: sms
    msg("m05", contact_id="c1", channel="", direction="inbound"),  # inbound: unknown
    msg("m06", contact_id="c1", channel=None, direction=None),
    msg("m07", contact_id="c1", contact_email="Other@Example.org"),  # source email wins
    msg("m08", contact_id="c3", contact_email="couple@example.org"),  # id wins: no ambiguity
    msg("m09"),  # neither id nor email: orphan
    msg("m10", contact_id="ghost", contact_email="ann@example.org"),  # unknown id
    msg("m11", contact_email="couple@example.org"),  # ambiguous
    msg("m12", contact_id="", contact_email="bob@example.org", body_preview=""),
]

SYSTEM_ROWS = [
    {
        "system_event_id": "y01",
        "contact_id": "c5",
        "event_name": "Form Reminder Sent",
        "actor": "cron",
        "occurred_at": "2024-03-01T05:00:00-05:00",
        "created_at": T0,
    },
    {
        "system_event_id": "y02",
        "contact_id": "c6",
        "event_name": "",
        "actor": "",
        "occurred_at": T0,
    },
    {"system_event_id": "y03", "contact_email": "stranger@example.org", "occurred_at": T0},
    {"system_event_id": "y04", "contact_email": "gus@example.org", "occurred_at": T0},
    {"system_event_id": "y05", "contact_id": "c7", "occurred_at": T0},
    {"system_event_id": " y05", "contact_id": "c7", "occurred_at": T0},  # ids not trimmed
    {"system_event_id": "y06", "contact_email": "eve.old@example.org", "occurred_at": T0},
]

# ---- ties and edge values: the dedupe tuple (None first, code-point order, compact
# UTF-8 JSON text of the payload), ASCII-only case folding, trimming, ids as written.
C1 = "2024-03-02T10:00:00Z"


def tf(record_id, created=C1, **extra):
    return form(record_id, "ann@example.org", created=created, **extra)


def tm(record_id, created=C1, **extra):
    return msg(record_id, **{"contact_id": "c1", "created_at": created, **extra})


def te(record_id, created=C1, **extra):
    return mail(record_id, "ann@example.org", **{"created_at": created, **extra})


def ts_(record_id, created=C1, **extra):
    return {
        "session_id": record_id,
        "contact_id": "c1",
        "started_at": T0,
        "created_at": created,
        **extra,
    }


EDGE_CONTACTS = [
    {"contact_id": "c10", "email": "dup@example.org", "updated_at": T0},  # same email twice
    {"contact_id": "c10", "email": "dup@example.org", "updated_at": "2024-01-01"},
    {"contact_id": "c11", "email": "tie@example.org", "updated_at": T0},  # tie: None first
    {"contact_id": "c11", "email": None, "updated_at": T0},
    # +01:00 makes the first row the earlier instant (2023-12-31T23:00Z < 23:30Z)
    {"contact_id": "c12", "email": "old12@example.org", "updated_at": "2024-01-01T00:00:00+01:00"},
    {"contact_id": "c12", "email": "new12@example.org", "updated_at": "2023-12-31T23:30:00Z"},
    {"contact_id": "c13", "email": "X@a.org ", "updated_at": T0},  # same email as c14
    {"contact_id": "c14", "email": "x@a.org", "updated_at": T0},
    {"contact_id": " c1", "email": "spacey@example.org"},  # ids are not trimmed
    {"contact_id": "c15", "email": "ÄNN@Example.org"},
]
EDGE_FORMS = [
    tf("t01"),
    tf("t01", timestamp=None),  # a null timestamp_raw sorts first: it wins
    tf("t02", measure_id="phq9"),
    tf("t02", measure_id=None),  # null event_name first
    tf("t03", measure_id="x", timestamp=" " + T0),
    tf("t03", measure_id="x"),
    tf("t05", timestamp="2024-03-01T10:00:00-00:00"),
    tf("t08", timestamp="2024-02-29"),
    form("t09", "Änn@EXAMPLE.org"),  # only A-Z are lower-cased: Ä stays (README "Emails")
    form("t10", "x@a.org"),  # ambiguous after trim + lower
    form("t11", "dup@example.org"),  # one contact listed twice: not ambiguous
    form("t12", "new12@example.org"),
    form("t13", "old12@example.org"),  # the losing row's email: orphan
    form("t14", "tie@example.org"),  # c11's winner has no email: orphan
    # same instant written two ways: the tie goes to the smaller payload (form_id a)
    tf("t15", created="2024-03-02T05:00:00-05:00", form_id="b"),
    tf("t15", form_id="a"),
    tf("t16", timestamp="0001-01-01T00:30:00Z"),
    tf("t17", timestamp="2024-03-01T10:00:00.000000"),
    form("t18", " \tANN@example.org\n"),
    form(" ", "ann@example.org"),  # a blank id is an id
    tf("t19", timestamp="2024-03-01T10:00:00+14:00"),
    tf("t20", timestamp="1969-12-31T23:59:59.999999Z"),
]
EDGE_SESSIONS = [
    ts_("u1", session_num=9),
    ts_("u1", session_num=10),  # JSON text: "10" < "9"
    ts_("u2", session_num=0),
    ts_("u3", session_num=None, idem_key="k"),
    ts_("u3", session_num=1, idem_key="k"),
    ts_("u4", contact_id=" c1"),
]
EDGE_EMAILS = [
    te("x1", labels=["b"]),
    te("x1", labels=["a", "z"]),
    te("x2", subject="x"),
    te("x2", subject=None),  # "(no subject)" < "x"
    mail("x3", PRACTICE, ["", "ann@example.org"], "first recipient empty"),
    mail("x4", "\tfront@practice.example", ["ann@example.org"], "tab-padded sender"),
    te("x5", labels=[None, "x"], subject="\tHi "),
    te("x6", labels=["é"]),
    te("x6", labels=["z"]),  # code points: "z" < "é"
    te("x7", labels=["🙂"]),
    te("x7", labels=["ｚ"]),  # U+FF5A < U+1F642 (not UTF-16)
    te("x8", subject="a" * 49 + "\u00e9\u0301b"),
    te("x9", labels=[]),
    te("x9", labels=None),  # "[]" < "null"
]
EDGE_MESSAGES = [
    tm("n1", body_preview="é"),
    tm("n1", body_preview="z"),  # not \u-escaped: "z" wins
    tm("n2", body_preview="🙂"),
    tm("n2", body_preview="ｚ"),
    tm("n3", direction="OUTBOUND\n"),
    tm("n4", contact_id=None, contact_email="  "),  # blank email: orphan without email
    tm("n5", channel="  "),  # a blank channel is not '' : kept as written
    tm("n6", body_preview=None),
    tm("n6", body_preview="a"),  # '"a"' < 'null'
    tm("n7", contact_id=None, contact_email="ann@example.org"),
    tm("n7"),  # null id first
    tm("n8", body_preview='say "hi"'),
    tm("n8", body_preview="say 'hi'"),  # '\\' > "'"
    tm("n9", body_preview="\x01"),
    tm("n9", body_preview="\x7f"),  # "\\u0001" < DEL
]

TABLES = {
    "contacts": CONTACTS + EDGE_CONTACTS,
    "measurement_events": FORM_ROWS + EDGE_FORMS,
    "clinical_sessions": SESSION_ROWS + EDGE_SESSIONS,
    "email_events": EMAIL_ROWS + EDGE_EMAILS,
    "messages": MESSAGE_ROWS + EDGE_MESSAGES,
    "system_events": SYSTEM_ROWS,
}

# The hand-written answer (CONTRACT §1-3): record -> reason of its reject (None: clean).
EXPECTED_REASONS = {
    (FORMS, "f01"): None,
    (FORMS, "f02"): "ambiguous_email",
    (FORMS, "f03"): "orphan",
    (FORMS, "f04"): "orphan",
    (FORMS, "f05"): "missing_timestamp",
    (FORMS, "f06"): "missing_timestamp",
    (FORMS, "f07"): "bad_timestamp",
    (FORMS, "f08"): "bad_timestamp",
    (FORMS, "f09"): "bad_timestamp",
    (FORMS, "f10"): "bad_timestamp",
    **{(FORMS, f"f{i}"): None for i in range(11, 16)},
    **{(FORMS, f"f{i}"): None for i in range(20, 26)},
    (FORMS, "f26"): "bad_timestamp",
    (FORMS, "f27"): "bad_timestamp",
    (FORMS, "f28"): None,
    (SESSIONS, "s01"): None,
    (SESSIONS, "s02"): "unknown_contact_id",
    (SESSIONS, "s03"): None,
    (SESSIONS, "s04"): None,
    (SESSIONS, "s05"): "bad_timestamp",
    (SESSIONS, "s06"): "orphan",
    (SESSIONS, "s07"): "orphan",
    (SESSIONS, "s08"): "missing_timestamp",
    (SESSIONS, "s09"): "bad_timestamp",
    (SESSIONS, "s10"): "unknown_contact_id",
    (SESSIONS, "s11"): None,
    (SESSIONS, "s12"): None,
    (EMAILS, "e01"): None,
    (EMAILS, "e02"): None,
    (EMAILS, "e03"): "orphan",
    (EMAILS, "e04"): "orphan",
    **{(EMAILS, f"e0{i}"): None for i in range(5, 9)},
    (EMAILS, "e09"): "ambiguous_email",
    (EMAILS, "e10"): "orphan",
    (EMAILS, "e11"): "orphan",  # inbound: the look-alike sender matches no contact
    (EMAILS, "e12"): "orphan",
    **{(MESSAGES, f"m0{i}"): None for i in range(1, 9)},
    (MESSAGES, "m09"): "orphan",
    (MESSAGES, "m10"): "unknown_contact_id",
    (MESSAGES, "m11"): "ambiguous_email",
    (MESSAGES, "m12"): None,
    (SYSTEM, "y01"): None,
    (SYSTEM, "y02"): None,
    (SYSTEM, "y03"): "orphan",
    (SYSTEM, "y04"): None,
    (SYSTEM, "y05"): None,
    (SYSTEM, " y05"): None,
    (SYSTEM, "y06"): "orphan",  # c5's old email: resolution uses the latest contact row
}
EXPECTED_REASONS.update(
    {
        (FORMS, "t01"): "missing_timestamp",
        **{(FORMS, f"t{i:02d}"): None for i in (2, 3, 5, 8, 9, 11, 12, 15, 16, 17, 18, 19, 20)},
        (FORMS, "t10"): "ambiguous_email",
        (FORMS, "t13"): "orphan",
        (FORMS, "t14"): "orphan",
        (FORMS, " "): None,
        **{(SESSIONS, f"u{i}"): None for i in range(1, 5)},
        **{(EMAILS, f"x{i}"): None for i in range(1, 10)},
        (EMAILS, "x3"): "orphan",
        **{(MESSAGES, f"n{i}"): None for i in range(1, 10)},
        (MESSAGES, "n4"): "orphan",
    }
)
MISSING_IDS = {FORMS: 4}

# Selected fields of ledger rows (mirror form), by hand from the contract.
EXPECTED_FIELDS = {
    (FORMS, "f01"): {
        "contact_id": "c1",
        "contact_email": "ann@example.org",
        "event_type": "form",
        "event_name": "phq9",
        "event_source": "google_form",
        "event_timestamp": "2024-03-01 08:00:00.000000",
        "payload": {
            "binding_id": None,
            "binding_version": None,
            "form_id": "F",
            "form_submission_id": None,
            "measure_version": None,
        },
    },
    (FORMS, "f03"): {"contact_id": None, "contact_email": "stranger@example.org"},
    (FORMS, "f04"): {"contact_id": None, "contact_email": None},
    (FORMS, "f11"): {"event_timestamp": "2024-03-01 00:00:00.000000"},
    (FORMS, "f12"): {"event_timestamp": "2024-03-01 10:00:00.000000"},
    (FORMS, "f13"): {"event_timestamp": "2024-03-01 10:00:00.500000"},
    (FORMS, "f14"): {"event_timestamp": "2024-03-01 10:00:00.000000"},
    (FORMS, "f15"): {"event_timestamp": "2024-03-01 15:30:00.123456"},
    (FORMS, "f20"): {"event_name": "phq9"},
    (FORMS, "f21"): {"event_name": "phq9"},
    (FORMS, "f23"): {"event_name": "a"},
    (FORMS, "f24"): {"event_name": "dated"},
    (FORMS, "f25"): {"event_name": "good-created"},
    (FORMS, "f28"): {"event_name": None},
    (SESSIONS, "s01"): {
        "contact_id": "c1",
        "contact_email": "ann@example.org",
        "event_type": "session",
        "event_name": "Session Completed",
        "event_source": "dataverse",
        "payload": {"idem_key": "k1", "session_num": 3},
    },
    (SESSIONS, "s03"): {"event_timestamp": "2024-03-01 11:00:00.000000"},
    (SESSIONS, "s04"): {"event_timestamp": "2024-03-01 12:00:00.000000"},
    (SESSIONS, "s06"): {"contact_id": None, "contact_email": None, "event_name": "Booked"},
    (SESSIONS, "s11"): {
        "contact_email": "eve.new@example.org",
        "event_name": None,
        "payload": {"idem_key": None, "session_num": None},
    },
    (SESSIONS, "s12"): {"contact_id": "c8", "contact_email": None},
    (EMAILS, "e01"): {
        "contact_id": "c1",
        "contact_email": "ann@example.org",
        "event_name": "outbound: Your appointment",
        "event_source": "gmail",
        "payload": {
            "direction": "outbound",
            "labels": ["SENT", "Important"],
            "subject": "Your appointment",
            "thread_id": "t1",
        },
    },
    (EMAILS, "e02"): {
        "contact_id": "c2",
        "event_name": "inbound: Re: Your appointment",
        "event_source": "outlook",
        "payload": {
            "direction": "inbound",
            "labels": [],
            "subject": "Re: Your appointment",
            "thread_id": None,
        },
    },
    (EMAILS, "e03"): {"contact_id": None, "contact_email": None},
    (EMAILS, "e05"): {
        "event_name": "inbound: (no subject)",
        "payload": {"direction": "inbound", "labels": None, "subject": None, "thread_id": None},
    },
    (EMAILS, "e06"): {"event_name": "inbound: (no subject)"},
    (EMAILS, "e07"): {"event_name": "inbound: " + LONG[:50]},
    (EMAILS, "e08"): {"event_name": "inbound:   padded  ", "event_source": None},
    (EMAILS, "e10"): {"contact_id": None, "contact_email": PRACTICE},
    (EMAILS, "e11"): {
        "contact_id": None,
        "contact_email": "front@practice.example.evil.com",
        "event_name": "inbound: phish",
    },
    (MESSAGES, "m01"): {
        "contact_id": "c2",
        "contact_email": "bob@example.org",
        "event_name": "outbound: sms",
        "event_source": "respond_io",
    },
    (MESSAGES, "m02"): {
        "contact_id": "c1",
        "contact_email": "ann@example.org",
        "payload": {"body_preview": "hi", "channel": "sms", "direction": "outbound"},
    },
    (MESSAGES, "m03"): {
        "event_name": "outbound: whatsapp",
        "payload": {"body_preview": None, "channel": "whatsapp", "direction": " Outbound "},
    },
    (MESSAGES, "m04"): {"event_name": "unknown: sms"},
    (MESSAGES, "m05"): {
        "event_name": "inbound: unknown",
        "payload": {"body_preview": None, "channel": None, "direction": "inbound"},
    },
    (MESSAGES, "m06"): {"event_name": "unknown: unknown"},
    (MESSAGES, "m07"): {"contact_id": "c1", "contact_email": "other@example.org"},
    (MESSAGES, "m08"): {"contact_id": "c3"},
    (MESSAGES, "m12"): {
        "contact_id": "c2",
        "payload": {"body_preview": None, "channel": "sms", "direction": "outbound"},
    },
    (SYSTEM, "y01"): {
        "contact_id": "c5",
        "contact_email": "eve.new@example.org",
        "event_type": "system",
        "event_name": "Form Reminder Sent",
        "event_source": "life_cli",
        "payload": {"actor": "cron"},
        "event_timestamp": "2024-03-01 10:00:00.000000",
    },
    (SYSTEM, "y02"): {
        "contact_email": "fay@example.org",
        "event_name": None,
        "payload": {"actor": None},
    },
    (SYSTEM, "y04"): {"contact_id": "c7", "contact_email": "gus@example.org"},
}

EXPECTED_FIELDS.update(
    {
        (FORMS, "t02"): {"event_name": None},
        (FORMS, "t03"): {"event_name": "x", "event_timestamp": "2024-03-01 10:00:00.000000"},
        (FORMS, "t05"): {"event_timestamp": "2024-03-01 10:00:00.000000"},
        (FORMS, "t08"): {"event_timestamp": "2024-02-29 00:00:00.000000"},
        (FORMS, "t09"): {"contact_id": "c15", "contact_email": "Änn@example.org"},
        (FORMS, "t11"): {"contact_id": "c10"},
        (FORMS, "t12"): {"contact_id": "c12"},
        (FORMS, "t13"): {"contact_id": None, "contact_email": "old12@example.org"},
        (FORMS, "t14"): {"contact_id": None, "contact_email": "tie@example.org"},
        (FORMS, "t15"): {
            "payload": {
                "binding_id": None,
                "binding_version": None,
                "form_id": "a",
                "form_submission_id": None,
                "measure_version": None,
            }
        },
        (FORMS, "t16"): {"event_timestamp": "0001-01-01 00:30:00.000000"},
        (FORMS, "t18"): {"contact_id": "c1", "contact_email": "ann@example.org"},
        (FORMS, " "): {"contact_id": "c1"},
        (FORMS, "t19"): {"event_timestamp": "2024-02-29 20:00:00.000000"},
        (FORMS, "t20"): {"event_timestamp": "1969-12-31 23:59:59.999999"},
        (SESSIONS, "u1"): {"payload": {"idem_key": None, "session_num": 10}},
        (SESSIONS, "u2"): {"payload": {"idem_key": None, "session_num": 0}},
        (SESSIONS, "u3"): {"payload": {"idem_key": "k", "session_num": 1}},
        (SESSIONS, "u4"): {"contact_id": " c1", "contact_email": "spacey@example.org"},
        (EMAILS, "x1"): {
            "payload": {
                "direction": "inbound",
                "labels": ["a", "z"],
                "subject": None,
                "thread_id": None,
            }
        },
        (EMAILS, "x2"): {"event_name": "inbound: (no subject)"},
        (EMAILS, "x3"): {
            "contact_id": None,
            "contact_email": None,
            "event_name": "outbound: first recipient empty",
        },
        (EMAILS, "x4"): {"contact_id": "c1", "event_name": "outbound: tab-padded sender"},
        (EMAILS, "x5"): {
            "event_name": "inbound: \tHi ",
            "payload": {
                "direction": "inbound",
                "labels": [None, "x"],
                "subject": "\tHi ",
                "thread_id": None,
            },
        },
        (EMAILS, "x6"): {
            "payload": {"direction": "inbound", "labels": ["z"], "subject": None, "thread_id": None}
        },
        (EMAILS, "x7"): {
            "payload": {
                "direction": "inbound",
                "labels": ["ｚ"],
                "subject": None,
                "thread_id": None,
            }
        },
        (EMAILS, "x8"): {"event_name": "inbound: " + "a" * 49 + "\u00e9"},
        (EMAILS, "x9"): {
            "payload": {"direction": "inbound", "labels": [], "subject": None, "thread_id": None}
        },
        (MESSAGES, "n1"): {
            "payload": {"body_preview": "z", "channel": "sms", "direction": "outbound"}
        },
        (MESSAGES, "n2"): {
            "payload": {"body_preview": "ｚ", "channel": "sms", "direction": "outbound"}
        },
        (MESSAGES, "n3"): {
            "event_name": "outbound: sms",
            "payload": {"body_preview": None, "channel": "sms", "direction": "OUTBOUND\n"},
        },
        (MESSAGES, "n4"): {"contact_id": None, "contact_email": None},
        (MESSAGES, "n5"): {
            "event_name": "outbound:   ",
            "payload": {"body_preview": None, "channel": "  ", "direction": "outbound"},
        },
        (MESSAGES, "n6"): {
            "payload": {"body_preview": "a", "channel": "sms", "direction": "outbound"}
        },
        (MESSAGES, "n7"): {"contact_id": "c1", "contact_email": "ann@example.org"},
        (MESSAGES, "n8"): {
            "payload": {"body_preview": "say 'hi'", "channel": "sms", "direction": "outbound"}
        },
        (MESSAGES, "n9"): {
            "payload": {"body_preview": "\x01", "channel": "sms", "direction": "outbound"}
        },
    }
)

CONTACT_IDS = {f"c{i}" for i in range(1, 16) if i != 9} | {" c1"}
EXPECTED_CONTACTS = {
    "c1": {"email": " Ann@Example.ORG "},
    "c5": {"email": "eve.new@example.org", "lifecycle_stage": "discharged"},
    "c6": {"email": "fay@example.org"},
    "c7": {"email": "gus@example.org", "updated_at": "2024-01-01"},
    "c8": {"email": None},
    "c10": {"updated_at": T0},
    "c11": {"email": None},
    "c12": {"email": "new12@example.org"},
}

# --------------------------------------------------------------------------- helpers


def build(root: Path, tables=TABLES, **overrides) -> Settings:
    """canonical rows -> load -> build -> sync (via the pipeline), real files under root."""
    settings = make_settings(root, **overrides)
    canon = write_canonicals(root / "canonicals", tables)
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, canon)
    rebuild(settings)
    return settings


def run(settings: Settings, mirror=True, **kwargs) -> ValidationResult:
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        return validate(wh, settings, settings.mirror_path if mirror else None, **kwargs)


def mutate(settings: Settings, target: str, *statements: str) -> None:
    if target == WAREHOUSE:
        with DuckDBWarehouse(settings.duckdb_path) as wh:
            for statement in statements:
                wh.execute(statement)
    else:
        con = sqlite3.connect(settings.mirror_path, isolation_level=None)
        try:
            for statement in statements:
                con.execute(statement)
        finally:
            con.close()


def errors_of(result: ValidationResult, target: str | None = None) -> list[Finding]:
    return [
        f
        for f in result.findings
        if f.severity == "error" and (target is None or f.target == target)
    ]

"""email_events -> ledger (CONTRACT §2): direction from the practice's own addresses
(case-insensitive), event_name = direction + first 50 characters of the subject,
identity per direction, provider as event_source."""

from __future__ import annotations

import json

from conftest import (
    assert_rejects,
    build_mirror,
    by_record_id,
    ledger,
    mirror_fixture,
    open_ro,
    warehouse_ledger,
)

SYSTEM = "canonical.email_events"
PRACTICE_ADDRESSES = [" Front@Practice.Example ", "billing@practice.example"]

CONTACTS = [
    {"contact_id": "c1", "email": " Ann@Example.org ", "lifecycle_stage": "active"},
    {"contact_id": "c2", "email": "bob@example.org", "lifecycle_stage": "active"},
]

# 49 code points, then an astral-plane emoji as the 50th, then more.
LONG_UNICODE = (
    "Überweisung für die Sitzung — 診療予約の確認 ça va? Ω ß " + "🙂" + " encore du texte ici"
)
COMBINING = "e\u0301" * 30  # 60 code points, 30 user-visible characters
FIFTY = "x" * 49 + "y"
FIFTY_ONE = FIFTY + "z"

assert len(LONG_UNICODE[:49]) == 49 and LONG_UNICODE[49] == "🙂"


def row(record_id, **fields):
    base = {
        "email_event_id": record_id,
        "provider": "gmail",
        "sent_at": "2024-03-01T10:00:00Z",
        "created_at": "2024-03-01T10:00:05Z",
    }
    base.update(fields)
    return base


ROWS = [
    row(
        "e01",  # outbound: practice address in another case and with spaces
        from_email=" FRONT@practice.example ",
        to_emails=[" Ann@Example.org ", "bob@example.org"],
        subject="Your appointment on Friday",
        thread_id="t1",
        labels=["SENT", "Important"],
        sent_at="2024-03-01T10:00:00+01:00",
    ),
    row(
        "e02",  # inbound: the sender is the identity; labels given as a JSON-array string
        provider="outlook",
        from_email=" Bob@Example.ORG ",
        to_emails=["front@practice.example"],
        subject="Re: Your appointment on Friday",
        thread_id="t1",
        labels='["INBOX"]',
        sent_at="2024-03-01T12:00:00Z",
    ),
    row(
        "e03",  # second practice address; non-ASCII subject cut at 50 code points
        from_email="Billing@Practice.Example",
        to_emails=["bob@example.org"],
        subject=LONG_UNICODE,
        labels=[],
    ),
    row("e04", from_email="ann@example.org", to_emails=[], subject=""),
    row("e05", from_email="ann@example.org"),
    row("e06", from_email="ann@example.org", subject="  Re:  spaced  "),
    row("e07", from_email="front@practice.example", to_emails=[], subject="to nobody"),
    row("e08", from_email="Stranger@Elsewhere.net", to_emails=["front@practice.example"]),
    row(
        "e09",  # only an exact address match counts, not a look-alike
        from_email="front@practice.example.evil.com",
        to_emails=["ann@example.org"],
        subject="phish",
    ),
    row("e10", from_email="ann@example.org", subject=FIFTY),
    row("e11", from_email="ann@example.org", subject=FIFTY_ONE),
    row("e12", from_email="ann@example.org", subject=COMBINING),
    row("e13", provider="", from_email="ann@example.org", subject="no provider"),
    row("e14", from_email="ann@example.org", sent_at="2024-03-01T10:00"),  # no seconds
]


def email(record_id, contact_id, addr, name, *, source="gmail", ts="2024-03-01 10:00:00.000000",
          direction, subject=None, thread_id=None, labels=None):  # fmt: skip
    return {
        "contact_id": contact_id,
        "contact_email": addr,
        "event_type": "email",
        "event_name": name,
        "event_source": source,
        "event_timestamp": ts,
        "source_system": SYSTEM,
        "source_record_id": record_id,
        "payload": {
            "direction": direction,
            "labels": labels,
            "subject": subject,
            "thread_id": thread_id,
        },
    }


ANN, BOB = "ann@example.org", "bob@example.org"
EXPECTED_LEDGER = [
    email(
        "e01",
        "c1",
        ANN,
        "outbound: Your appointment on Friday",
        ts="2024-03-01 09:00:00.000000",
        direction="outbound",
        subject="Your appointment on Friday",
        thread_id="t1",
        labels=["SENT", "Important"],
    ),  # fmt: skip
    email(
        "e02",
        "c2",
        BOB,
        "inbound: Re: Your appointment on Friday",
        source="outlook",
        ts="2024-03-01 12:00:00.000000",
        direction="inbound",
        subject="Re: Your appointment on Friday",
        thread_id="t1",
        labels=["INBOX"],
    ),  # fmt: skip
    email(
        "e03",
        "c2",
        BOB,
        "outbound: " + LONG_UNICODE[:50],
        direction="outbound",
        subject=LONG_UNICODE,
        labels=[],
    ),  # fmt: skip
    email("e04", "c1", ANN, "inbound: (no subject)", direction="inbound"),
    email("e05", "c1", ANN, "inbound: (no subject)", direction="inbound"),
    email(
        "e06", "c1", ANN, "inbound:   Re:  spaced  ", direction="inbound", subject="  Re:  spaced  "
    ),  # fmt: skip
    email("e07", None, None, "outbound: to nobody", direction="outbound", subject="to nobody"),
    email("e08", None, "stranger@elsewhere.net", "inbound: (no subject)", direction="inbound"),
    email(
        "e09",
        None,
        "front@practice.example.evil.com",
        "inbound: phish",
        direction="inbound",
        subject="phish",
    ),  # fmt: skip
    email("e10", "c1", ANN, "inbound: " + FIFTY, direction="inbound", subject=FIFTY),
    email("e11", "c1", ANN, "inbound: " + FIFTY, direction="inbound", subject=FIFTY_ONE),
    email(
        "e12", "c1", ANN, "inbound: " + COMBINING[:50], direction="inbound", subject=COMBINING
    ),  # fmt: skip
    email(
        "e13",
        "c1",
        ANN,
        "inbound: no provider",
        source=None,
        direction="inbound",
        subject="no provider",
    ),  # fmt: skip
]

EXPECTED_REJECTS = {
    (SYSTEM, "e07", "warning", "orphan"),
    (SYSTEM, "e08", "warning", "orphan"),
    (SYSTEM, "e09", "warning", "orphan"),
    (SYSTEM, "e14", "error", "bad_timestamp"),
}


mirror = mirror_fixture(
    "emails", {"contacts": CONTACTS, "email_events": ROWS}, practice_emails=PRACTICE_ADDRESSES
)


def test_every_ledger_column_of_every_email_row(mirror):
    con, _, _ = mirror
    assert ledger(con) == EXPECTED_LEDGER


def test_rejects_and_orphans(mirror):
    con, report, _ = mirror
    assert_rejects(con, EXPECTED_REJECTS)
    assert report.ledger_rows[SYSTEM] == len(EXPECTED_LEDGER)


def test_direction_is_case_insensitive_against_every_practice_address(mirror):
    con, _, _ = mirror
    directions = {r["source_record_id"]: r["payload"]["direction"] for r in ledger(con)}
    assert directions["e01"] == "outbound"  # ' FRONT@practice.example '
    assert directions["e03"] == "outbound"  # 'Billing@Practice.Example'
    assert directions["e02"] == "inbound"
    assert directions["e09"] == "inbound"


def test_subject_snippet_is_fifty_code_points_untrimmed(mirror):
    con, _, _ = mirror
    names = dict(con.execute("SELECT source_record_id, event_name FROM contact_events"))
    assert names["e03"] == "outbound: " + LONG_UNICODE[:50]
    assert names["e03"].endswith("🙂")
    assert len(names["e10"]) == len("inbound: ") + 50
    assert names["e11"] == names["e10"]
    assert names["e06"] == "inbound:   Re:  spaced  "
    assert names["e04"] == names["e05"] == "inbound: (no subject)"


def test_payload_text_is_compact_with_sorted_keys(mirror):
    con, _, _ = mirror
    for (text,) in con.execute("SELECT payload FROM contact_events"):
        parsed = json.loads(text)
        assert list(parsed) == ["direction", "labels", "subject", "thread_id"]
        assert text in (
            json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
            json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=True),
        )


def test_warehouse_ledger_is_the_same_rows_with_utc_timestamps(mirror):
    _, _, settings = mirror
    assert warehouse_ledger(settings) == EXPECTED_LEDGER


def test_without_practice_addresses_every_email_is_inbound(tmp_path):
    """No practice address configured: nothing can be outbound, not even a row whose
    from_email is missing or '' (an empty sender is not one of the practice's addresses)."""
    rows = [
        row("n1", from_email=None, to_emails=["ann@example.org"], subject="hi"),
        row("n2", from_email="", to_emails=["ann@example.org"], subject="hi"),
        row("n3", from_email="Ann@Example.org", to_emails=["front@practice.example"]),
    ]
    settings, _, _ = build_mirror(
        tmp_path, {"contacts": CONTACTS, "email_events": rows}, practice_emails=[]
    )
    con = open_ro(settings.mirror_path)
    got = by_record_id(ledger(con))
    con.close()
    assert got["n3"]["event_name"] == "inbound: (no subject)"
    assert got["n3"]["contact_id"] == "c1"
    for rid in ("n1", "n2"):
        assert got[rid]["event_name"] == "inbound: hi", rid
        assert got[rid]["payload"]["direction"] == "inbound", rid
        assert (got[rid]["contact_id"], got[rid]["contact_email"]) == (None, None), rid


def test_missing_sender_is_inbound_with_practice_addresses_configured(tmp_path):
    rows = [row("m1", from_email=None, to_emails=["ann@example.org"], subject="hi")]
    settings, _, _ = build_mirror(tmp_path, {"contacts": CONTACTS, "email_events": rows})
    con = open_ro(settings.mirror_path)
    (got,) = ledger(con)
    con.close()
    assert got["event_name"] == "inbound: hi"
    assert (got["contact_id"], got["contact_email"]) == (None, None)

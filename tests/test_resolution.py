"""Contact resolution, reason priority, timestamps and dedupe (CONTRACT §1-3), one rule
per test, on real DuckDB + SQLite files."""

from __future__ import annotations

import json
import random
import sqlite3

import pytest

from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse

MSG = "canonical.messages"
SYS = "canonical.system_events"
FORMS = "measurement_events"

ANN = {"contact_id": "c1", "email": " Ann@Example.ORG ", "first_name": "Ann"}
BOB = {"contact_id": "c2", "email": "bob@example.org", "first_name": "Bob"}


def msg(record_id, **fields):
    row = {
        "message_id": record_id,
        "channel": "sms",
        "direction": "outbound",
        "sent_at": "2024-03-01T10:00:00Z",
        "created_at": "2024-03-01T10:00:00Z",
    }
    row.update(fields)
    return row


class Result:
    def __init__(self, settings, report):
        self.settings = settings
        self.report = report
        con = sqlite3.connect(f"file:{settings.mirror_path}?mode=ro", uri=True)
        con.row_factory = sqlite3.Row
        try:
            self.ledger_rows = [dict(r) for r in con.execute("SELECT * FROM contact_events")]
            self.rejects = [dict(r) for r in con.execute("SELECT * FROM contact_events_rejects")]
            self.contacts = [dict(r) for r in con.execute("SELECT * FROM contacts")]
        finally:
            con.close()
        for r in self.ledger_rows:
            r["payload"] = json.loads(r["payload"])

    @property
    def ledger(self) -> dict[str, dict[str, object]]:
        return {r["source_record_id"]: r for r in self.ledger_rows}

    def reason(self, record_id) -> str | None:
        (hit,) = [r for r in self.rejects if r["source_record_id"] == record_id] or [None]
        return hit["reason"] if hit else None

    def reject(self, record_id) -> dict[str, object]:
        (hit,) = [r for r in self.rejects if r["source_record_id"] == record_id]
        return hit


@pytest.fixture
def run(mirror_factory):
    def go(tables, **overrides) -> Result:
        settings, report, _ = mirror_factory(tables, **overrides)
        return Result(settings, report)

    return go


# --- 1. contact_id ------------------------------------------------------------------------


def test_existing_contact_id_is_used_and_email_comes_from_the_contact(run):
    res = run({"contacts": [ANN, BOB], "messages": [msg("m1", contact_id="c1")]})
    row = res.ledger["m1"]
    assert (row["contact_id"], row["contact_email"]) == ("c1", "ann@example.org")
    assert res.rejects == []


def test_source_email_wins_over_the_contacts_email(run):
    res = run(
        {"contacts": [ANN], "messages": [msg("m1", contact_id="c1", contact_email=" X@Y.org")]}
    )
    assert (res.ledger["m1"]["contact_id"], res.ledger["m1"]["contact_email"]) == ("c1", "x@y.org")


def test_unknown_contact_id_is_rejected_even_when_the_email_matches(run):
    res = run(
        {
            "contacts": [ANN],
            "messages": [msg("m1", contact_id="c9", contact_email="ann@example.org")],
        }
    )
    assert res.ledger == {}
    rej = res.reject("m1")
    assert (rej["source_system"], rej["severity"], rej["reason"]) == (
        MSG,
        "error",
        "unknown_contact_id",
    )
    assert res.report.rejects_by_reason["unknown_contact_id"] == 1


def test_empty_contact_id_counts_as_missing(run):
    res = run(
        {"contacts": [ANN], "messages": [msg("m1", contact_id="", contact_email="ann@example.org")]}
    )
    assert res.ledger["m1"]["contact_id"] == "c1"


# --- 2. email -----------------------------------------------------------------------------


def test_email_matching_exactly_one_contact_resolves_after_trim_and_lower(run):
    res = run(
        {"contacts": [ANN, BOB], "messages": [msg("m1", contact_email="  ann@EXAMPLE.org\u0020")]}
    )
    row = res.ledger["m1"]
    assert (row["contact_id"], row["contact_email"]) == ("c1", "ann@example.org")
    assert res.rejects == []


def test_email_matching_no_contact_is_a_kept_orphan_with_a_warning(run):
    res = run({"contacts": [ANN], "messages": [msg("m1", contact_email=" Nobody@Example.org ")]})
    row = res.ledger["m1"]
    assert (row["contact_id"], row["contact_email"]) == (None, "nobody@example.org")
    rej = res.reject("m1")
    assert (rej["source_system"], rej["severity"], rej["reason"]) == (MSG, "warning", "orphan")
    assert res.report.rejects_by_reason["orphan"] == 1
    assert res.report.error_rejects == 0


def test_email_matching_several_contacts_is_ambiguous(run):
    contacts = [ANN, {"contact_id": "c7", "email": "ann@example.org "}]
    res = run({"contacts": contacts, "messages": [msg("m1", contact_email="ann@example.org")]})
    assert res.ledger == {}
    rej = res.reject("m1")
    assert (rej["severity"], rej["reason"]) == ("error", "ambiguous_email")


def test_the_same_contact_listed_twice_is_not_ambiguous(run):
    contacts = [
        {**ANN, "updated_at": "2024-01-01"},
        {**ANN, "first_name": "Annie", "updated_at": "2024-02-01"},
    ]
    res = run({"contacts": contacts, "messages": [msg("m1", contact_email="ann@example.org")]})
    assert res.ledger["m1"]["contact_id"] == "c1"
    assert res.rejects == []


def test_no_contact_id_and_no_email_is_an_orphan(run):
    res = run(
        {"contacts": [ANN], "messages": [msg("m1"), msg("m2", contact_id="", contact_email="")]}
    )
    for rid in ("m1", "m2"):
        assert (res.ledger[rid]["contact_id"], res.ledger[rid]["contact_email"]) == (None, None)
        assert res.reject(rid)["reason"] == "orphan"
        assert res.reject(rid)["severity"] == "warning"


def test_email_resolution_uses_the_latest_version_of_a_contact(run):
    contacts = [
        {"contact_id": "c1", "email": "old@example.org", "updated_at": "2024-01-01T00:00:00Z"},
        {"contact_id": "c1", "email": "new@example.org", "updated_at": "2024-02-01T00:00:00Z"},
    ]
    res = run(
        {
            "contacts": contacts,
            "messages": [
                msg("m1", contact_email="old@example.org"),
                msg("m2", contact_email="new@example.org"),
            ],
        }
    )
    assert res.ledger["m1"]["contact_id"] is None
    assert res.reason("m1") == "orphan"
    assert res.ledger["m2"]["contact_id"] == "c1"


# --- 3. reason priority ------------------------------------------------------------------


def test_missing_id_and_bad_timestamp_is_missing_record_id(run):
    res = run({"contacts": [ANN], "messages": [msg("", sent_at="yesterday", contact_id="c9")]})
    (rej,) = res.rejects
    assert (rej["source_system"], rej["source_record_id"], rej["reason"], rej["severity"]) == (
        MSG,
        None,
        "missing_record_id",
        "error",
    )


def test_missing_id_and_missing_timestamp_is_missing_record_id(run):
    res = run({"contacts": [ANN], "system_events": [{"contact_id": "c1"}]})
    (rej,) = res.rejects
    assert (rej["source_system"], rej["source_record_id"], rej["reason"]) == (
        SYS,
        None,
        "missing_record_id",
    )


def test_bad_timestamp_and_unknown_contact_is_bad_timestamp(run):
    res = run({"contacts": [ANN], "messages": [msg("m1", contact_id="c9", sent_at="2024-02-30")]})
    assert res.reason("m1") == "bad_timestamp"


def test_missing_timestamp_and_unknown_contact_is_missing_timestamp(run):
    res = run({"contacts": [ANN], "messages": [msg("m1", contact_id="c9", sent_at="")]})
    assert res.reason("m1") == "missing_timestamp"


def test_bad_timestamp_and_ambiguous_email_is_bad_timestamp(run):
    contacts = [ANN, {"contact_id": "c7", "email": "ann@example.org"}]
    res = run(
        {
            "contacts": contacts,
            "messages": [msg("m1", contact_email="ann@example.org", sent_at="x")],
        }
    )
    assert res.reason("m1") == "bad_timestamp"


def test_bad_timestamp_and_orphan_is_a_bad_timestamp_error_not_kept(run):
    res = run({"contacts": [ANN], "messages": [msg("m1", sent_at="2024-13-01")]})
    assert res.ledger == {}
    assert [(r["reason"], r["severity"]) for r in res.rejects] == [("bad_timestamp", "error")]


def test_every_row_without_an_id_gets_its_own_reject(run):
    rows = [msg(""), msg(None), {**msg("x"), "message_id": None}, msg("")]
    res = run({"contacts": [ANN], "messages": rows})
    assert len(res.rejects) == 4
    assert all(r["source_record_id"] is None for r in res.rejects)
    assert {r["reason"] for r in res.rejects} == {"missing_record_id"}
    assert res.report.duplicates[MSG] == 0
    assert res.report.rejects_by_reason["missing_record_id"] == 4


# --- 4. timestamps ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("2024-03-01T10:00:00+02:00", "2024-03-01 08:00:00.000000"),
        ("2024-03-01T10:00:00-05:00", "2024-03-01 15:00:00.000000"),
        ("2024-03-01T23:30:00-05:00", "2024-03-02 04:30:00.000000"),
        ("2024-03-01T00:30:00+05:30", "2024-02-29 19:00:00.000000"),
        ("2024-03-01T10:00:00Z", "2024-03-01 10:00:00.000000"),
        ("2024-03-01T10:00:00-00:00", "2024-03-01 10:00:00.000000"),
        ("2024-03-01T10:00:00", "2024-03-01 10:00:00.000000"),
        ("2024-03-01 10:00:00", "2024-03-01 10:00:00.000000"),
        ("2024-03-01", "2024-03-01 00:00:00.000000"),
        ("2024-03-01T10:00:00.123456Z", "2024-03-01 10:00:00.123456"),
        ("2024-03-01T10:00:00.000001", "2024-03-01 10:00:00.000001"),
        ("2024-03-01T10:00:00.5+01:00", "2024-03-01 09:00:00.500000"),
        ("  2024-03-01T10:00:00Z  ", "2024-03-01 10:00:00.000000"),
        ("2024-02-29T12:00:00Z", "2024-02-29 12:00:00.000000"),
        # RFC 3339 allows lower-case t and z, and any number of fractional digits
        # (7 from .NET, 9 from Go); digits beyond microseconds are dropped, never rounded.
        ("2024-03-01t10:00:00z", "2024-03-01 10:00:00.000000"),
        ("2024-03-01T10:00:00.1234567Z", "2024-03-01 10:00:00.123456"),
        ("2024-03-01T10:00:00.123456999+01:00", "2024-03-01 09:00:00.123456"),
        ("2024-12-31T23:59:59.9999999Z", "2024-12-31 23:59:59.999999"),
        ("2024-03-01 10:00:00.0000009", "2024-03-01 10:00:00.000000"),
    ],
)
def test_timestamps_are_converted_to_utc(run, raw, utc):
    res = run({"contacts": [ANN], "messages": [msg("m1", contact_id="c1", sent_at=raw)]})
    assert res.ledger["m1"]["event_timestamp"] == utc
    assert res.rejects == []


@pytest.mark.parametrize(
    "raw",
    [
        "2024-02-30",
        "2023-02-29",
        "2024-13-01",
        "yesterday",
        "2024-03-01T10:00",  # no seconds
        "2024-03-01T10:00:00.",  # a dot needs digits
        "2024-03-01T10:00:00.Z",
        "2024-03-01T25:00:00",
        "2024-03-01T10:61:00",
        "2024-03-01T10:00:60",
        "2024/03/01",
        "01/03/2024",
        "2024-3-1",
        "2024-03-01x10:00:00Z",
        "2024-03-01T10:00:00+0200",
        "2024-03-01T10:00:00 +02:00",
        "2024-03-01T10:00:00+02",
        "1709287200",
        "2024-03-01T10:00:00Z garbage",
    ],
)
def test_unparseable_timestamps_are_bad_timestamp(run, raw):
    res = run({"contacts": [ANN], "messages": [msg("m1", contact_id="c1", sent_at=raw)]})
    assert res.ledger == {}
    assert res.reason("m1") == "bad_timestamp"
    assert raw.strip() in res.reject("m1")["detail"]


@pytest.mark.parametrize(
    "raw",
    [
        "2024-03-01T24:00:00",  # RFC 3339 hours are 00-23
        "2024-03-01T10:00:00+24:00",  # not a UTC offset (Python: must be < 24h)
        "2024-03-01T10:00:00+14:60",  # offset minute 60
    ],
)
def test_out_of_range_time_fields_are_bad_timestamp_not_shifted(run, raw):
    """Grammar-valid but not a real RFC 3339 instant: must be rejected, not silently moved
    to another hour or day."""
    res = run({"contacts": [ANN], "messages": [msg("m1", contact_id="c1", sent_at=raw)]})
    assert res.ledger == {}, res.ledger
    assert res.reason("m1") == "bad_timestamp"


@pytest.mark.parametrize("raw", ["2024-03-01T10:00:00Z\n", "\t2024-03-01T10:00:00Z"])
def test_surrounding_whitespace_is_trimmed_not_only_spaces(run, raw):
    """'timestamps are trimmed': a trailing newline or a tab (CSV exports) is not data."""
    res = run({"contacts": [ANN], "messages": [msg("m1", contact_id="c1", sent_at=raw)]})
    assert res.ledger["m1"]["event_timestamp"] == "2024-03-01 10:00:00.000000"


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_missing_or_empty_timestamp_is_missing_timestamp(run, raw):
    res = run({"contacts": [ANN], "messages": [msg("m1", contact_id="c1", sent_at=raw)]})
    assert res.reason("m1") == "missing_timestamp"


# --- 5. dedupe ----------------------------------------------------------------------------


def test_latest_created_at_wins_and_losers_are_counted_not_rejected(run):
    rows = [
        msg("m1", contact_id="c1", channel="sms", created_at="2024-01-01T00:00:00Z"),
        msg("m1", contact_id="c1", channel="whatsapp", created_at="2024-02-01T00:00:00Z"),
        msg("m1", contact_id="c1", channel="email", created_at="2024-01-15"),
    ]
    res = run({"contacts": [ANN], "messages": rows})
    assert res.ledger["m1"]["event_name"] == "outbound: whatsapp"
    assert len(res.ledger_rows) == 1
    assert res.rejects == []
    assert res.report.duplicates[MSG] == 2
    assert sum(res.report.rejects_by_reason.values()) == 0


def test_created_at_compares_as_instants_not_as_text(run):
    rows = [
        # 2024-01-31T23:00Z, although its text sorts after the other one
        msg("m1", contact_id="c1", channel="sms", created_at="2024-02-01T01:00:00+02:00"),
        msg("m1", contact_id="c1", channel="whatsapp", created_at="2024-02-01T00:00:00Z"),
    ]
    res = run({"contacts": [ANN], "messages": rows})
    assert res.ledger["m1"]["event_name"] == "outbound: whatsapp"


@pytest.mark.parametrize("loser_created_at", [None, "", "not a date", "2024-02-30"])
def test_missing_or_unparseable_created_at_loses(run, loser_created_at):
    rows = [
        msg("m1", contact_id="c1", channel="sms", created_at=loser_created_at),
        msg("m1", contact_id="c1", channel="whatsapp", created_at="2000-01-01"),
    ]
    for ordered in (rows, rows[::-1]):
        res = run({"contacts": [ANN], "messages": ordered})
        assert res.ledger["m1"]["event_name"] == "outbound: whatsapp"
        assert res.report.duplicates[MSG] == 1


def test_ties_on_created_at_do_not_depend_on_input_order(run):
    rows = [
        msg("m1", contact_id="c1", channel=ch, body_preview=f"body {ch}", created_at="2024-01-01")
        for ch in ("sms", "whatsapp", "telegram", "signal")
    ]
    winners = set()
    for seed in range(4):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        res = run({"contacts": [ANN], "messages": shuffled})
        (row,) = res.ledger_rows
        winners.add(json.dumps(row, sort_keys=True))
        assert res.report.duplicates[MSG] == 3
    assert len(winners) == 1


def test_the_latest_row_wins_even_when_it_is_then_rejected(run):
    rows = [
        msg("m1", contact_id="c1", sent_at="2024-03-01T10:00:00Z", created_at="2024-01-01"),
        msg("m1", contact_id="c1", sent_at="garbage", created_at="2024-02-01"),
    ]
    res = run({"contacts": [ANN], "messages": rows})
    assert res.ledger == {}
    assert [r["reason"] for r in res.rejects] == ["bad_timestamp"]
    assert res.report.duplicates[MSG] == 1


def test_same_id_in_different_sources_is_not_collapsed(run):
    res = run(
        {
            "contacts": [ANN],
            "messages": [msg("42", contact_id="c1")],
            "system_events": [
                {"system_event_id": "42", "contact_id": "c1", "occurred_at": "2024-03-01"}
            ],
        }
    )
    assert sorted((r["source_system"], r["source_record_id"]) for r in res.ledger_rows) == [
        (MSG, "42"),
        (SYS, "42"),
    ]
    assert res.report.duplicates[MSG] == res.report.duplicates[SYS] == 0


def test_shuffled_input_lines_give_the_same_result(run):
    contacts = [ANN, BOB, {**ANN, "first_name": "Old", "updated_at": "2020-01-01"}]
    rows = [
        msg(f"m{i % 5}", contact_id=("c1", "c2")[i % 2], channel=f"ch{i}", created_at=ts)
        for i, ts in enumerate(
            ["2024-01-01", "2024-01-01", "2024-01-02", None, "x", "2024-01-02"] * 3
        )
    ] + [msg("", contact_id="c1"), msg(None, contact_email="bob@example.org")]
    results = []
    for seed in range(3):
        c, r = contacts[:], rows[:]
        random.Random(seed).shuffle(c)
        random.Random(seed).shuffle(r)
        res = run({"contacts": c, "messages": r})
        results.append(
            (
                sorted(json.dumps(x, sort_keys=True) for x in res.ledger_rows),
                sorted(json.dumps(x, sort_keys=True) for x in res.rejects),
                sorted(json.dumps(x, sort_keys=True) for x in res.contacts),
                res.report.duplicates,
            )
        )
    assert results[0] == results[1] == results[2]


# --- 6. grain -----------------------------------------------------------------------------


def test_grain_is_unique_in_warehouse_and_mirror(run):
    forms = [
        {"measurement_event_id": f"f{i % 3}", "subject_id": "ann@example.org",
         "timestamp": "2024-03-01", "created_at": f"2024-01-0{1 + i % 2}"}
        for i in range(9)
    ]  # fmt: skip
    sessions = [
        {"session_id": f"s{i % 2}", "contact_id": "c1", "started_at": "2024-03-01"}
        for i in range(6)
    ]
    messages = [msg(f"m{i % 4}", contact_id="c2", channel=f"ch{i}") for i in range(12)]
    res = run(
        {"contacts": [ANN, BOB], FORMS: forms, "clinical_sessions": sessions, "messages": messages}
    )
    assert len(res.ledger_rows) == 3 + 2 + 4
    query = (
        "SELECT source_system, source_record_id, COUNT(*) AS n FROM {t} "
        "GROUP BY source_system, source_record_id HAVING COUNT(*) > 1"
    )
    con = sqlite3.connect(f"file:{res.settings.mirror_path}?mode=ro", uri=True)
    try:
        assert con.execute(query.format(t="contact_events")).fetchall() == []
        with pytest.raises(sqlite3.Error):  # the mirror enforces the grain
            con.execute("INSERT INTO contact_events SELECT * FROM contact_events LIMIT 1")
    finally:
        con.close()
    with DuckDBWarehouse(res.settings.duckdb_path, read_only=True) as wh:
        assert wh.fetch(query.format(t="proj_contact_events")) == []
        assert wh.fetch("SELECT COUNT(*) AS n FROM proj_contact_events")[0]["n"] == 9
    assert res.report.duplicates == {
        FORMS: 6,
        "canonical.clinical_sessions": 4,
        "canonical.email_events": 0,
        MSG: 8,
        SYS: 0,
    }


def test_mirror_grain_index_rejects_duplicates_on_a_writable_connection(run):
    res = run({"contacts": [ANN], "messages": [msg("m1", contact_id="c1")]})
    con = sqlite3.connect(res.settings.mirror_path)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            con.execute("INSERT INTO contact_events SELECT * FROM contact_events")
    finally:
        con.rollback()
        con.close()


# --- 7. contacts dedupe -------------------------------------------------------------------


def test_contacts_are_deduped_by_id_latest_updated_at_wins(run):
    contacts = [
        {"contact_id": "c1", "email": "a1@x.org", "first_name": "A1", "updated_at": "2024-01-01"},
        {"contact_id": "c1", "email": "a3@x.org", "first_name": "A3",
         "updated_at": "2024-03-01T01:00:00+02:00"},  # 2024-02-29T23:00Z
        {"contact_id": "c1", "email": "a2@x.org", "first_name": "A2",
         "updated_at": "2024-02-29T23:30:00Z"},  # latest
        {"contact_id": "c1", "email": "a4@x.org", "first_name": "A4", "updated_at": "garbage"},
        {"contact_id": "c1", "email": "a5@x.org", "first_name": "A5", "updated_at": None},
        {"contact_id": "c2", "email": "b@x.org", "first_name": "B", "lifecycle_stage": "active",
         "client_type_code": "IND", "last_name": "Bee", "updated_at": "2024-01-01"},
    ]  # fmt: skip
    for ordered in (contacts, contacts[::-1]):
        res = run({"contacts": ordered})
        got = sorted(res.contacts, key=lambda c: c["contact_id"])
        assert got == [
            {"contact_id": "c1", "email": "a2@x.org", "first_name": "A2", "last_name": None,
             "lifecycle_stage": None, "client_type_code": None,
             "updated_at": "2024-02-29T23:30:00Z"},
            {"contact_id": "c2", "email": "b@x.org", "first_name": "B", "last_name": "Bee",
             "lifecycle_stage": "active", "client_type_code": "IND", "updated_at": "2024-01-01"},
        ]  # fmt: skip
        assert res.report.contacts == 2
        with DuckDBWarehouse(res.settings.duckdb_path, read_only=True) as wh:
            rows = wh.fetch("SELECT * FROM proj_contacts ORDER BY contact_id")
        assert rows == got


def test_contacts_without_an_id_are_not_in_the_mirror(run):
    res = run({"contacts": [ANN, {"contact_id": "", "email": "x@y.org"}, {"email": "z@y.org"}]})
    assert [c["contact_id"] for c in res.contacts] == ["c1"]


def test_contact_ties_on_updated_at_do_not_depend_on_order(run):
    contacts = [
        {
            "contact_id": "c1",
            "email": f"v{i}@x.org",
            "first_name": f"V{i}",
            "updated_at": "2024-01-01",
        }
        for i in range(4)
    ]
    seen = set()
    for seed in range(3):
        shuffled = contacts[:]
        random.Random(seed).shuffle(shuffled)
        (row,) = run({"contacts": shuffled}).contacts
        seen.add(json.dumps(row, sort_keys=True))
    assert len(seen) == 1

"""clinical_sessions -> ledger (CONTRACT §2): every column, and the timestamp candidates
started_at -> ended_at -> created_at with no fall-through past a non-empty bad value."""

from __future__ import annotations

from conftest import assert_rejects, ledger, mirror_fixture, warehouse_ledger

SYSTEM = "canonical.clinical_sessions"

CONTACTS = [
    {"contact_id": "c1", "email": " Ann@Example.org ", "lifecycle_stage": "active"},
    {"contact_id": "c2", "email": None, "lifecycle_stage": "active"},
]

ROWS = [
    {  # started_at wins over the others; contact_email comes from the contact, normalised
        "session_id": "s1",
        "contact_id": "c1",
        "status": "Session Completed",
        "session_num": 4,
        "idem_key": "idem-1",
        "started_at": "2024-03-01T10:00:00+02:00",
        "ended_at": "2024-03-01T09:50:00Z",
        "created_at": "2024-02-01T00:00:00Z",
    },
    {  # started_at '' -> ended_at
        "session_id": "s2",
        "contact_id": "c1",
        "status": "Session Completed",
        "session_num": "5",
        "started_at": "",
        "ended_at": "2024-03-02T11:00:00.250000Z",
        "created_at": "2024-02-01T00:00:00Z",
    },
    {  # started_at and ended_at empty / missing -> created_at
        "session_id": "s3",
        "contact_id": "c2",
        "status": "Cancelled",
        "started_at": None,
        "ended_at": "",
        "created_at": "2024-03-03 07:00:00",
    },
    {  # whitespace only is empty after trimming -> falls through to ended_at
        "session_id": "s4",
        "contact_id": "c2",
        "status": "No Show",
        "session_num": None,
        "idem_key": "",
        "started_at": "   ",
        "ended_at": "2024-03-04",
    },
    {  # no contact_id (sessions have no email): an orphan, kept
        "session_id": "s5",
        "status": "Session Completed",
        "session_num": 1,
        "started_at": "2024-03-05T10:00:00-05:00",
    },
    # No fall-through past a non-empty value that does not parse:
    {
        "session_id": "s6",
        "contact_id": "c1",
        "started_at": "not a date",
        "ended_at": "2024-03-06T10:00:00Z",
        "created_at": "2024-03-06T10:00:00Z",
    },
    {
        "session_id": "s7",
        "contact_id": "c1",
        "started_at": "",
        "ended_at": "2024-02-30T10:00:00",
        "created_at": "2024-03-07T10:00:00Z",
    },
    # Nothing at all -> missing_timestamp
    {"session_id": "s8", "contact_id": "c1", "started_at": "", "ended_at": None, "created_at": ""},
    # Unknown contact_id -> error
    {"session_id": "s9", "contact_id": "c404", "started_at": "2024-03-09T10:00:00Z"},
]


def session(record_id, contact_id, email, status, ts, session_num=None, idem_key=None):
    return {
        "contact_id": contact_id,
        "contact_email": email,
        "event_type": "session",
        "event_name": status,
        "event_source": "dataverse",
        "event_timestamp": ts,
        "source_system": SYSTEM,
        "source_record_id": record_id,
        "payload": {"idem_key": idem_key, "session_num": session_num},
    }


EXPECTED_LEDGER = [
    session(
        "s1",
        "c1",
        "ann@example.org",
        "Session Completed",
        "2024-03-01 08:00:00.000000",
        session_num=4,
        idem_key="idem-1",
    ),
    session(
        "s2",
        "c1",
        "ann@example.org",
        "Session Completed",
        "2024-03-02 11:00:00.250000",
        session_num=5,
    ),
    session("s3", "c2", None, "Cancelled", "2024-03-03 07:00:00.000000"),
    session("s4", "c2", None, "No Show", "2024-03-04 00:00:00.000000"),
    session("s5", None, None, "Session Completed", "2024-03-05 15:00:00.000000", session_num=1),
]

EXPECTED_REJECTS = {
    (SYSTEM, "s5", "warning", "orphan"),
    (SYSTEM, "s6", "error", "bad_timestamp"),
    (SYSTEM, "s7", "error", "bad_timestamp"),
    (SYSTEM, "s8", "error", "missing_timestamp"),
    (SYSTEM, "s9", "error", "unknown_contact_id"),
}


mirror = mirror_fixture("sessions", {"contacts": CONTACTS, "clinical_sessions": ROWS})


def test_every_ledger_column_of_every_session_row(mirror):
    con, _, _ = mirror
    assert ledger(con) == EXPECTED_LEDGER


def test_timestamp_candidates_in_order(mirror):
    con, _, _ = mirror
    ts = dict(con.execute("SELECT source_record_id, event_timestamp FROM contact_events"))
    assert ts["s1"] == "2024-03-01 08:00:00.000000"  # started_at, not ended_at / created_at
    assert ts["s2"] == "2024-03-02 11:00:00.250000"  # ended_at
    assert ts["s3"] == "2024-03-03 07:00:00.000000"  # created_at


def test_no_fall_through_past_an_unparseable_candidate(mirror):
    con, _, _ = mirror
    reasons = dict(
        con.execute(
            "SELECT source_record_id, reason FROM contact_events_rejects WHERE severity = 'error'"
        )
    )
    assert reasons["s6"] == "bad_timestamp"
    assert reasons["s7"] == "bad_timestamp"
    in_ledger = {r for (r,) in con.execute("SELECT source_record_id FROM contact_events")}
    assert not {"s6", "s7", "s8", "s9"} & in_ledger


def test_rejects_and_orphans(mirror):
    con, report, _ = mirror
    rows = assert_rejects(con, EXPECTED_REJECTS)
    assert all(isinstance(r["detail"], str) and r["detail"] for r in rows)
    assert report.ledger_rows[SYSTEM] == 5


def test_session_num_is_a_json_integer(mirror):
    con, _, _ = mirror
    texts = dict(con.execute("SELECT source_record_id, payload FROM contact_events"))
    assert texts["s1"] == '{"idem_key":"idem-1","session_num":4}'
    assert texts["s2"] == '{"idem_key":null,"session_num":5}'  # "5" in the JSONL
    assert texts["s3"] == '{"idem_key":null,"session_num":null}'


def test_warehouse_ledger_is_the_same_rows_with_utc_timestamps(mirror):
    _, _, settings = mirror
    assert warehouse_ledger(settings) == EXPECTED_LEDGER

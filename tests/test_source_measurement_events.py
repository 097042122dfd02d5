"""measurement_events -> ledger (CONTRACT §2): every column of every row, payload parsed."""

from __future__ import annotations

import json

from conftest import assert_rejects, ledger, mirror_fixture, warehouse_ledger

SYSTEM = "measurement_events"
PAYLOAD_KEYS = ("binding_id", "binding_version", "form_id", "form_submission_id", "measure_version")

CONTACTS = [
    {"contact_id": "c1", "email": " Ann@Example.org ", "lifecycle_stage": "active"},
    {"contact_id": "c2", "email": "bob@example.org", "lifecycle_stage": "active"},
]

ROWS = [
    {  # every field present; offset converted to UTC; email matched after trim + lower
        "measurement_event_id": "f1",
        "subject_id": "  ANN@example.ORG ",
        "measure_id": "phq9",
        "measure_version": "2",
        "binding_id": "bind-1",
        "binding_version": "3",
        "form_id": "form-9",
        "form_submission_id": "sub-77",
        "timestamp": "2024-03-01T09:30:00+01:00",
        "created_at": "2024-03-01T09:31:00Z",
    },
    {  # only what is needed: absent and '' payload fields are null; date-only = midnight UTC
        "measurement_event_id": "f2",
        "subject_id": "bob@example.org",
        "measure_id": "gad7",
        "measure_version": "",
        "binding_id": None,
        "timestamp": "2024-03-02",
    },
    {  # no measure_id: event_name is null; microseconds kept; naive = UTC
        "measurement_event_id": "f3",
        "subject_id": "bob@example.org",
        "measure_id": "",
        "timestamp": "2024-03-03 08:15:30.123456",
    },
    {  # respondent not a contact: orphan, kept with contact_id NULL
        "measurement_event_id": "f4",
        "subject_id": "Stranger@Elsewhere.net",
        "measure_id": "phq9",
        "timestamp": "2024-03-04T10:00:00Z",
    },
    {  # no respondent at all: orphan too
        "measurement_event_id": "f5",
        "measure_id": "phq9",
        "timestamp": "2024-03-05T10:00:00-05:00",
    },
    {"measurement_event_id": "f6", "subject_id": "bob@example.org", "timestamp": ""},
    {"measurement_event_id": "f7", "subject_id": "bob@example.org", "timestamp": "03/01/2024"},
]


def payload(**values: object) -> dict[str, object]:
    return {key: values.get(key) for key in PAYLOAD_KEYS}


def form(record_id, contact_id, email, name, ts, **pl):
    return {
        "contact_id": contact_id,
        "contact_email": email,
        "event_type": "form",
        "event_name": name,
        "event_source": "google_form",
        "event_timestamp": ts,
        "source_system": SYSTEM,
        "source_record_id": record_id,
        "payload": payload(**pl),
    }


EXPECTED_LEDGER = [
    form(
        "f1",
        "c1",
        "ann@example.org",
        "phq9",
        "2024-03-01 08:30:00.000000",
        measure_version="2",
        binding_id="bind-1",
        binding_version="3",
        form_id="form-9",
        form_submission_id="sub-77",
    ),
    form("f2", "c2", "bob@example.org", "gad7", "2024-03-02 00:00:00.000000"),
    form("f3", "c2", "bob@example.org", None, "2024-03-03 08:15:30.123456"),
    form("f4", None, "stranger@elsewhere.net", "phq9", "2024-03-04 10:00:00.000000"),
    form("f5", None, None, "phq9", "2024-03-05 15:00:00.000000"),
]

EXPECTED_REJECTS = {
    (SYSTEM, "f4", "warning", "orphan"),
    (SYSTEM, "f5", "warning", "orphan"),
    (SYSTEM, "f6", "error", "missing_timestamp"),
    (SYSTEM, "f7", "error", "bad_timestamp"),
}


mirror = mirror_fixture("forms", {"contacts": CONTACTS, SYSTEM: ROWS})


def test_every_ledger_column_of_every_form_row(mirror):
    con, _, _ = mirror
    assert ledger(con) == EXPECTED_LEDGER


def test_rejects_and_orphans(mirror):
    con, report, _ = mirror
    rows = assert_rejects(con, EXPECTED_REJECTS)
    assert all(isinstance(r["detail"], str) and r["detail"] for r in rows)
    assert report.ledger_rows[SYSTEM] == 5
    assert report.rejects_by_source[SYSTEM] == {
        "orphan": 2,
        "missing_timestamp": 1,
        "bad_timestamp": 1,
    }


def test_payload_text_is_compact_with_sorted_keys_and_every_key(mirror):
    con, _, _ = mirror
    for (text,) in con.execute("SELECT payload FROM contact_events"):
        parsed = json.loads(text)
        assert tuple(parsed) == PAYLOAD_KEYS
        assert text == json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_warehouse_ledger_is_the_same_rows_with_utc_timestamps(mirror):
    _, _, settings = mirror
    assert warehouse_ledger(settings) == EXPECTED_LEDGER

"""system_events -> ledger (CONTRACT §2): event_name as given, event_source life_cli,
timestamp occurred_at only, identity contact_id else contact_email."""

from __future__ import annotations

from conftest import assert_rejects, ledger, mirror_fixture, warehouse_ledger

SYSTEM = "canonical.system_events"

CONTACTS = [
    {"contact_id": "c1", "email": " Ann@Example.org ", "lifecycle_stage": "active"},
    {"contact_id": "c2", "email": "", "lifecycle_stage": "active"},
]

ROWS = [
    {
        "system_event_id": "y1",
        "contact_id": "c1",
        "event_name": "Form Reminder Sent",
        "actor": "life_cli/cron",
        "occurred_at": "2024-03-01T10:00:00-05:00",
        "created_at": "2024-03-01T15:00:01Z",
    },
    {
        "system_event_id": "y2",
        "contact_email": " ANN@example.org",
        "event_name": "Status Changed",
        "actor": "",
        "occurred_at": "2024-03-02T08:00:00.000001Z",
    },
    {  # contact without an email, no source email: contact_email stays null
        "system_event_id": "y3",
        "contact_id": "c2",
        "event_name": "",
        "occurred_at": "2024-03-03 23:59:59",
    },
    {"system_event_id": "y4", "event_name": "Batch Job", "occurred_at": "2024-03-04"},  # orphan
    {  # no occurred_at: created_at is NOT a candidate for system events
        "system_event_id": "y5",
        "contact_id": "c1",
        "event_name": "Form Reminder Sent",
        "created_at": "2024-03-05T10:00:00Z",
    },
    {"system_event_id": "y6", "contact_id": "c1", "occurred_at": "yesterday"},
    {"system_event_id": "y7", "contact_id": "ghost", "occurred_at": "2024-03-07T10:00:00Z"},
]


def system(record_id, contact_id, addr, name, ts, actor=None):
    return {
        "contact_id": contact_id,
        "contact_email": addr,
        "event_type": "system",
        "event_name": name,
        "event_source": "life_cli",
        "event_timestamp": ts,
        "source_system": SYSTEM,
        "source_record_id": record_id,
        "payload": {"actor": actor},
    }


EXPECTED_LEDGER = [
    system(
        "y1",
        "c1",
        "ann@example.org",
        "Form Reminder Sent",
        "2024-03-01 15:00:00.000000",
        actor="life_cli/cron",
    ),  # fmt: skip
    system("y2", "c1", "ann@example.org", "Status Changed", "2024-03-02 08:00:00.000001"),
    system("y3", "c2", None, None, "2024-03-03 23:59:59.000000"),
    system("y4", None, None, "Batch Job", "2024-03-04 00:00:00.000000"),
]

EXPECTED_REJECTS = {
    (SYSTEM, "y4", "warning", "orphan"),
    (SYSTEM, "y5", "error", "missing_timestamp"),
    (SYSTEM, "y6", "error", "bad_timestamp"),
    (SYSTEM, "y7", "error", "unknown_contact_id"),
}


mirror = mirror_fixture("system", {"contacts": CONTACTS, "system_events": ROWS})


def test_every_ledger_column_of_every_system_row(mirror):
    con, _, _ = mirror
    assert ledger(con) == EXPECTED_LEDGER


def test_rejects_and_orphans(mirror):
    con, report, _ = mirror
    assert_rejects(con, EXPECTED_REJECTS)
    assert report.rejects_by_source[SYSTEM] == {
        "orphan": 1,
        "missing_timestamp": 1,
        "bad_timestamp": 1,
        "unknown_contact_id": 1,
    }


def test_payload_text(mirror):
    con, _, _ = mirror
    texts = dict(con.execute("SELECT source_record_id, payload FROM contact_events"))
    assert texts["y1"] == '{"actor":"life_cli/cron"}'
    assert texts["y2"] == '{"actor":null}'


def test_warehouse_ledger_is_the_same_rows_with_utc_timestamps(mirror):
    _, _, settings = mirror
    assert warehouse_ledger(settings) == EXPECTED_LEDGER

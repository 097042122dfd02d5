"""Same input => byte-identical warehouse tables and mirror rows (payload text included),
across rebuilds and across any order of the input lines."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from conftest import PRACTICE, make_settings, write_canonicals
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.build import build
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.sync import sync


def dataset() -> dict[str, list[dict[str, object]]]:
    """Every trap at once: duplicates with created_at ties, unparseable created_at, missing
    ids, orphans, ambiguous emails, offsets, and contacts listed several times."""
    contacts = [
        {"contact_id": "c1", "email": "Ann@Example.org", "first_name": "Ann",
         "updated_at": "2024-01-01"},
        {"contact_id": "c1", "email": "ann@example.org", "first_name": "Annie",
         "updated_at": "2024-01-01"},
        {"contact_id": "c2", "email": "bob@example.org", "lifecycle_stage": "active"},
        {"contact_id": "c3", "email": "shared@example.org"},
        {"contact_id": "c4", "email": "SHARED@example.org"},
        {"contact_id": "c5", "email": "eve@example.org", "updated_at": "x"},
        {"contact_id": "c5", "email": "eve2@example.org", "updated_at": None},
    ]  # fmt: skip
    forms = []
    for i in range(30):
        forms.append(
            {
                "measurement_event_id": f"f{i % 12}",
                "subject_id": ["ann@example.org", "BOB@example.org", "shared@example.org",
                               "x@nowhere.org", None][i % 5],
                "measure_id": ["phq9", "gad7"][i % 2],
                "measure_version": str(i),
                "form_id": f"form{i % 3}",
                "timestamp": f"2024-03-{1 + i % 28:02d}T{i % 24:02d}:00:00+0{i % 9}:00",
                "created_at": ["2024-01-01", "2024-01-01", None, "bad",
                               "2024-01-02T00:00:00Z"][i % 5],
            }
        )  # fmt: skip
    sessions = [
        {"session_id": f"s{i % 7}", "contact_id": ["c1", "c2", "c9", None][i % 4],
         "status": ["Session Completed", "Cancelled"][i % 2], "session_num": i,
         "idem_key": f"k{i}", "started_at": ["", None, "2024-03-01T10:00:00Z"][i % 3],
         "ended_at": "2024-03-01T11:00:00.5Z", "created_at": "2024-01-01"}
        for i in range(21)
    ]  # fmt: skip
    emails = [
        {"email_event_id": f"e{i % 6}", "provider": ["gmail", "outlook"][i % 2],
         "from_email": [PRACTICE.upper(), "bob@example.org", "stranger@x.org"][i % 3],
         "to_emails": [["ann@example.org", "bob@example.org"], [PRACTICE], []][i % 3],
         "subject": ["Hello ünïcödé " * 5, "", None, "Re: appt"][i % 4],
         "thread_id": f"t{i % 2}", "labels": [["INBOX"], [], None][i % 3],
         "sent_at": f"2024-03-0{1 + i % 9}T08:00:00-05:00", "created_at": "2024-01-01"}
        for i in range(18)
    ]  # fmt: skip
    messages = [
        {"message_id": ["m1", "m2", "", None, "m3"][i % 5],
         "channel": ["sms", "whatsapp", None][i % 3],
         "direction": ["inbound", "OUTBOUND ", "x"][i % 3], "contact_id": [None, "c1", "c2"][i % 3],
         "contact_email": ["shared@example.org", None, "bob@example.org", "new@x.org"][i % 4],
         "body_preview": f"body {i % 4}", "sent_at": ["2024-03-01T10:00:00Z", "nope", ""][i % 3],
         "created_at": "2024-01-01"}
        for i in range(25)
    ]  # fmt: skip
    system = [
        {"system_event_id": f"y{i % 5}", "contact_id": [None, "c2"][i % 2],
         "contact_email": ["ann@example.org", "eve2@example.org"][i % 2],
         "event_name": "Form Reminder Sent", "actor": f"a{i % 3}",
         "occurred_at": "2024-03-05 09:00:00", "created_at": ["2024-02-01", "2024-02-01"][i % 2]}
        for i in range(15)
    ]  # fmt: skip
    # One row per trap, so each reason shows up whatever the duplicates resolve to.
    messages += [
        {"message_id": "t-no-ts", "contact_id": "c1", "sent_at": ""},
        {"message_id": "t-bad-ts", "contact_id": "c1", "sent_at": "2024-02-30"},
        {"message_id": "t-unknown", "contact_id": "c404", "sent_at": "2024-03-01"},
        {
            "message_id": "t-ambiguous",
            "contact_email": "Shared@example.org",
            "sent_at": "2024-03-01",
        },
        {"message_id": "t-orphan", "contact_email": "who@x.org", "sent_at": "2024-03-01"},
        {"message_id": "", "contact_email": "who@x.org", "sent_at": "2024-03-01"},
    ]
    return {
        "contacts": contacts,
        "measurement_events": forms,
        "clinical_sessions": sessions,
        "email_events": emails,
        "messages": messages,
        "system_events": system,
    }


def shuffle_files(directory: Path, seed: int) -> None:
    rng = random.Random(seed)
    for path in directory.glob("*.jsonl"):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        rng.shuffle(lines)
        path.write_text("".join(lines), encoding="utf-8")


def snapshot(settings) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every projection table, warehouse and mirror, as exact values."""
    out: dict[str, list[tuple[object, ...]]] = {}
    con = sqlite3.connect(f"file:{settings.mirror_path}?mode=ro", uri=True)
    try:
        for table in ("contact_events", "contact_events_rejects", "contacts"):
            n = len(con.execute(f"SELECT * FROM {table} LIMIT 0").description)
            order = ", ".join(str(i) for i in range(1, n + 1))
            out["mirror." + table] = con.execute(
                f"SELECT * FROM {table} ORDER BY {order}"
            ).fetchall()
    finally:
        con.close()
    with DuckDBWarehouse(settings.duckdb_path, read_only=True) as wh:
        for table in ("proj_contact_events", "proj_contact_events_rejects", "proj_contacts"):
            rows = wh.fetch(f"SELECT * FROM {table}")
            out["warehouse." + table] = sorted(
                (tuple(map(repr, r.values())) for r in rows), key=lambda t: t
            )
    return out


def run_once(root: Path, seed: int | None) -> tuple[dict, dict]:
    settings = make_settings(root)
    canon = write_canonicals(root / "canonicals", dataset())
    if seed is not None:
        shuffle_files(canon, seed)
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, canon)
        report = build(wh, settings)
        sync(wh, settings.mirror_path)
    counts = (report.ledger_rows, report.rejects_by_reason, report.duplicates, report.contacts)
    return snapshot(settings), counts


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return run_once(tmp_path_factory.mktemp("ref"), None)


def test_dataset_exercises_the_traps(reference):
    snap, (ledger_rows, reasons, duplicates, contacts) = reference
    assert all(n > 0 for n in duplicates.values())
    assert {r for r, n in reasons.items() if n} == {
        "missing_record_id",
        "missing_timestamp",
        "bad_timestamp",
        "unknown_contact_id",
        "ambiguous_email",
        "orphan",
    }
    assert contacts == 5
    assert len(snap["mirror.contact_events"]) == sum(ledger_rows.values())


def test_two_builds_of_the_same_input_are_identical(reference, tmp_path):
    assert run_once(tmp_path, None) == reference


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_input_files_give_identical_tables(reference, tmp_path, seed):
    assert run_once(tmp_path, seed) == reference


def test_rebuilding_the_same_warehouse_is_identical(reference, tmp_path):
    settings = make_settings(tmp_path)
    canon = write_canonicals(tmp_path / "canonicals", dataset())
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, canon)
        build(wh, settings)
        build(wh, settings)
        sync(wh, settings.mirror_path)
        sync(wh, settings.mirror_path)
    assert snapshot(settings) == reference[0]


def test_mirror_rows_are_the_warehouse_rows(reference):
    snap, _ = reference
    assert len(snap["mirror.contact_events"]) == len(snap["warehouse.proj_contact_events"])
    assert len(snap["mirror.contact_events_rejects"]) == len(
        snap["warehouse.proj_contact_events_rejects"]
    )
    assert len(snap["mirror.contacts"]) == len(snap["warehouse.proj_contacts"])

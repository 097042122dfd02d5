"""builder/validate/compare.py: a correct build agrees with the reference path, and each
mutation of the warehouse tables or of the mirror file is caught and named (kind, field,
record), on DuckDB and on BigQuery's Arrow types."""

from __future__ import annotations

import json
import sqlite3

import pytest
from rich.console import Console

from conftest import make_settings, write_canonicals
from contact_events.builder.stages.load import load_directory
from contact_events.builder.validate.api import validate
from contact_events.builder.validate.findings import (
    BUILD_REPORT_DIFFERS,
    CONTACT_DIFFERS,
    CONTACT_MISSING,
    DUPLICATE_KEY,
    FIELD_DIFFERS,
    MIRROR,
    MISSING,
    PAYLOAD_NOT_CANONICAL,
    REJECT_DIFFERS,
    REJECT_MISSING,
    REJECT_UNEXPECTED,
    TABLE_MISSING,
    UNEXPECTED,
    WAREHOUSE,
    ValidationResult,
)
from contact_events.builder.validate.rendering import render

from .cases import (
    CONTACT_IDS,
    EXPECTED_REASONS,
    FORMS,
    MESSAGES,
    SESSIONS,
    SYSTEM,
    TABLES,
    errors_of,
    mutate,
    run,
)

# --------------------------------------------------------------------------- agreement


def test_a_correct_build_validates(traps):
    result = run(traps)
    assert errors_of(result) == [], ValidationResult.summary(result)
    assert result.ok
    assert result.targets == [WAREHOUSE, MIRROR]
    ledger_rows = sum(1 for reason in EXPECTED_REASONS.values() if reason in (None, "orphan"))
    assert result.events_checked == ledger_rows
    assert result.rejects_checked == sum(1 for r in EXPECTED_REASONS.values() if r) + 4
    assert result.contacts_checked == len(CONTACT_IDS)
    summary = result.to_dict()
    json.dumps(summary)
    assert summary["ok"] is True and summary["events_checked"] == ledger_rows
    assert set(summary["by_target"]) == {"warehouse", "mirror"}


# --------------------------------------------------------------------------- mutations

TARGETS = [WAREHOUSE, MIRROR]


def other(target: str) -> str:
    return MIRROR if target == WAREHOUSE else WAREHOUSE


def ledger(target: str) -> str:
    return "proj_contact_events" if target == WAREHOUSE else "contact_events"


def rejects(target: str) -> str:
    return "proj_contact_events_rejects" if target == WAREHOUSE else "contact_events_rejects"


def assert_only(result: ValidationResult, target: str, *expected: tuple) -> None:
    """The errors found are exactly `expected` (kind, system, record, field), in `target`."""
    assert errors_of(result, other(target)) == []

    def key(t: tuple) -> tuple:
        return tuple("" if x is None else x for x in t)

    got = sorted(
        ((f.kind, f.source_system, f.source_record_id, f.field) for f in errors_of(result, target)),
        key=key,
    )
    assert got == sorted(expected, key=key)
    assert not result.ok


@pytest.mark.parametrize("target", TARGETS)
def test_deleted_ledger_row_is_missing(fresh, target):
    mutate(fresh, target, f"DELETE FROM {ledger(target)} WHERE source_record_id = 's01'")
    result = run(fresh)
    assert_only(result, target, (MISSING, SESSIONS, "s01", None))
    (finding,) = result.find(kind=MISSING)
    assert finding.contact_id == "c1" and finding.expected["event_name"] == "Session Completed"


@pytest.mark.parametrize("target", TARGETS)
def test_changed_field_is_named(fresh, target):
    mutate(
        fresh,
        target,
        f"UPDATE {ledger(target)} SET event_name = 'gad7' WHERE source_record_id = 'f01'",
    )
    result = run(fresh)
    assert_only(result, target, (FIELD_DIFFERS, FORMS, "f01", "event_name"))
    (finding,) = result.find(kind=FIELD_DIFFERS)
    assert (finding.expected, finding.actual, finding.contact_id) == ("phq9", "gad7", "c1")


@pytest.mark.parametrize("target", TARGETS)
def test_changed_payload_is_named(fresh, target):
    payload = json.dumps({"idem_key": "k1", "session_num": "3"})  # a string, not an int
    mutate(
        fresh,
        target,
        f"UPDATE {ledger(target)} SET payload = '{payload}' WHERE source_record_id = 's01'",
    )
    result = run(fresh)
    assert_only(result, target, (FIELD_DIFFERS, SESSIONS, "s01", "payload"))
    (finding,) = result.find(kind=FIELD_DIFFERS)
    assert finding.expected == {"idem_key": "k1", "session_num": 3}
    assert finding.actual == {"idem_key": "k1", "session_num": "3"}


@pytest.mark.parametrize("target", TARGETS)
def test_non_canonical_payload_text_is_a_warning(fresh, target):
    payload = '{"session_num": 3, "idem_key": "k1"}'
    mutate(
        fresh,
        target,
        f"UPDATE {ledger(target)} SET payload = '{payload}' WHERE source_record_id = 's01'",
    )
    result = run(fresh)
    assert result.ok
    (finding,) = result.find(kind=PAYLOAD_NOT_CANONICAL)
    assert (finding.target, finding.source_record_id, finding.severity) == (
        target,
        "s01",
        "warning",
    )
    assert finding.expected == '{"idem_key":"k1","session_num":3}'


@pytest.mark.parametrize("target", TARGETS)
def test_stray_row_is_unexpected(fresh, target):
    copy = (
        "INSERT INTO proj_contact_events SELECT * REPLACE ('stray-1' AS source_record_id) "
        "FROM proj_contact_events WHERE source_record_id = 'm01'"
        if target == WAREHOUSE
        else "INSERT INTO contact_events SELECT contact_id, contact_email, event_type, "
        "event_name, event_source, event_timestamp, source_system, 'stray-1', payload "
        "FROM contact_events WHERE source_record_id = 'm01'"
    )
    mutate(fresh, target, copy)
    result = run(fresh)
    assert_only(result, target, (UNEXPECTED, MESSAGES, "stray-1", None))
    assert result.find(kind=UNEXPECTED)[0].contact_id == "c2"


@pytest.mark.parametrize("target", TARGETS)
def test_rows_of_unknown_source_systems_are_unexpected(fresh, target):
    mutate(
        fresh,
        target,
        f"UPDATE {ledger(target)} SET source_system = 'canonical.bogus' "
        "WHERE source_record_id = 'y02'",
        f"UPDATE {rejects(target)} SET source_system = 'bogus' WHERE source_record_id = 's02'",
    )
    result = run(fresh)
    assert_only(
        result,
        target,
        (UNEXPECTED, "canonical.bogus", "y02", None),
        (MISSING, SYSTEM, "y02", None),
        (REJECT_UNEXPECTED, "bogus", "s02", "reason"),
        (REJECT_MISSING, SESSIONS, "s02", "reason"),
    )
    console = Console(record=True, width=200)
    render(result, console)
    text = console.export_text()
    assert "findings per contact" in text and "findings per source" in text
    assert "canonical.bogus" in text and "MISMATCH" in text


@pytest.mark.parametrize("target", TARGETS)
def test_duplicate_ledger_row_is_named(fresh, target):
    statements = []
    if target == MIRROR:  # the mirror's unique grain index would refuse the copy
        con = sqlite3.connect(fresh.mirror_path)
        indexes = con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contact_events' "
            "AND sql IS NOT NULL"
        ).fetchall()
        con.close()
        statements = [f"DROP INDEX {name}" for (name,) in indexes]
    mutate(
        fresh,
        target,
        *statements,
        f"INSERT INTO {ledger(target)} SELECT * FROM {ledger(target)} "
        "WHERE source_record_id = 'm01'",
    )
    result = run(fresh)
    assert_only(result, target, (DUPLICATE_KEY, MESSAGES, "m01", None))


@pytest.mark.parametrize("target", TARGETS)
def test_changed_reject_reason_is_named(fresh, target):
    mutate(
        fresh,
        target,
        f"UPDATE {rejects(target)} SET reason = 'bad_timestamp' WHERE source_record_id = 's02'",
    )
    result = run(fresh)
    assert_only(result, target, (REJECT_DIFFERS, SESSIONS, "s02", "reason"))
    (finding,) = result.find(kind=REJECT_DIFFERS)
    assert (finding.expected, finding.actual) == ("unknown_contact_id", "bad_timestamp")
    assert finding.contact_id == "nope"


@pytest.mark.parametrize("target", TARGETS)
def test_changed_reject_severity_and_lost_orphan_warning(fresh, target):
    mutate(
        fresh,
        target,
        f"UPDATE {rejects(target)} SET severity = 'warning' WHERE source_record_id = 'f05'",
        f"DELETE FROM {rejects(target)} WHERE source_record_id = 'f03'",
        f"DELETE FROM {rejects(target)} WHERE source_record_id IS NULL AND rowid IN "
        f"(SELECT min(rowid) FROM {rejects(target)} WHERE source_record_id IS NULL)",
    )
    result = run(fresh)
    assert_only(
        result,
        target,
        (REJECT_DIFFERS, FORMS, "f05", "severity"),
        (REJECT_MISSING, FORMS, "f03", "reason"),
        (REJECT_MISSING, FORMS, None, "reason"),
    )


@pytest.mark.parametrize("target", TARGETS)
def test_timestamp_shifted_by_an_hour_is_named(fresh, target):
    shift = (
        "UPDATE proj_contact_events SET event_timestamp = event_timestamp + INTERVAL 1 HOUR "
        "WHERE source_record_id = 'y01'"
        if target == WAREHOUSE
        else "UPDATE contact_events SET event_timestamp = "
        "strftime('%Y-%m-%d %H:%M:%f000', event_timestamp, '+1 hour') "
        "WHERE source_record_id = 'y01'"
    )
    mutate(fresh, target, shift)
    result = run(fresh)
    assert_only(result, target, (FIELD_DIFFERS, SYSTEM, "y01", "event_timestamp"))
    (finding,) = result.find(kind=FIELD_DIFFERS)
    if target == WAREHOUSE:
        assert (finding.expected, finding.actual) == (
            "2024-03-01T10:00:00.000000Z",
            "2024-03-01T11:00:00.000000Z",
        )
    else:
        assert (finding.expected, finding.actual) == (
            "2024-03-01 10:00:00.000000",
            "2024-03-01 11:00:00.000000",
        )


def test_mirror_timestamp_text_form_is_checked(fresh):
    target = MIRROR  # the warehouse holds a timestamp column, not text
    mutate(
        fresh,
        target,
        "UPDATE contact_events SET event_timestamp = '2024-03-01T10:00:00Z' "
        "WHERE source_record_id = 'y01'",
    )
    result = run(fresh)
    assert_only(result, target, (FIELD_DIFFERS, SYSTEM, "y01", "event_timestamp"))


@pytest.mark.parametrize("target", TARGETS)
def test_resolving_an_ambiguous_email_is_caught(fresh, target):
    ts = (
        "TIMESTAMPTZ '2024-03-01 10:00:00+00'"
        if target == WAREHOUSE
        else ("'2024-03-01 10:00:00.000000'")
    )
    payload = json.dumps(
        {
            "binding_id": None,
            "binding_version": None,
            "form_id": None,
            "form_submission_id": None,
            "measure_version": None,
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    mutate(
        fresh,
        target,
        f"DELETE FROM {rejects(target)} WHERE source_record_id = 'f02'",
        f"INSERT INTO {ledger(target)} VALUES ('c3', 'couple@example.org', 'form', 'phq9', "
        f"'google_form', {ts}, '{FORMS}', 'f02', '{payload}')",
    )
    result = run(fresh)
    assert_only(
        result,
        target,
        (UNEXPECTED, FORMS, "f02", None),
        (REJECT_MISSING, FORMS, "f02", "reason"),
    )
    unexpected = result.find(kind=UNEXPECTED)[0]
    assert unexpected.expected == "reject ambiguous_email"
    assert unexpected.contact_id in ("c3", "c4")


@pytest.mark.parametrize("target", TARGETS)
def test_contacts_table_is_compared(fresh, target):
    table = "proj_contacts" if target == WAREHOUSE else "contacts"
    mutate(
        fresh,
        target,
        f"UPDATE {table} SET lifecycle_stage = 'active' WHERE contact_id = 'c5'",
        f"DELETE FROM {table} WHERE contact_id = 'c2'",
    )
    result = run(fresh)
    kinds = sorted((f.kind, f.contact_id, f.field) for f in errors_of(result, target))
    assert kinds == [
        (CONTACT_DIFFERS, "c5", "lifecycle_stage"),
        (CONTACT_MISSING, "c2", None),
    ]
    assert errors_of(result, other(target)) == []


def test_mirror_build_report_is_compared(fresh):
    mutate(
        fresh,
        MIRROR,
        "UPDATE ledger_builds SET ledger_rows = ledger_rows + 1 "
        "WHERE rowid = (SELECT max(rowid) FROM ledger_builds)",
    )
    result = run(fresh)
    assert [(f.kind, f.field) for f in errors_of(result)] == [(BUILD_REPORT_DIFFERS, "ledger_rows")]


def test_missing_ledger_table_is_a_finding(fresh):
    mutate(fresh, MIRROR, "DROP TABLE contact_events")
    result = run(fresh)
    assert result.count(TABLE_MISSING, MIRROR) == 1 and not result.ok


def test_without_a_mirror_only_the_warehouse_is_checked(fresh):
    mutate(fresh, MIRROR, "DELETE FROM contact_events")
    result = run(fresh, mirror=False)
    assert result.ok and result.targets == [WAREHOUSE]


# --------------------------------------------------------------------------- BigQuery


def test_validate_reads_a_bigquery_warehouse(tmp_path, bigquery_warehouse):
    """The same reference path on the other engine's Arrow types (local emulator)."""
    from contact_events.builder.stages.build import build as build_projection
    from contact_events.builder.stages.sync import sync

    settings = make_settings(tmp_path)
    canon = write_canonicals(tmp_path / "canonicals", TABLES)
    load_directory(bigquery_warehouse, canon)
    build_projection(bigquery_warehouse, settings)
    sync(bigquery_warehouse, settings.mirror_path)
    result = validate(bigquery_warehouse, settings, settings.mirror_path)
    assert errors_of(result) == [], result.summary()
    assert result.events_checked == sum(
        1 for r in EXPECTED_REASONS.values() if r in (None, "orphan")
    )

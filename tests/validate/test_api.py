"""builder/validate/api.py: what `validate` checks (a contact, a seeded sample), the
pipeline's hook (`check_mirror`) and the failed reports it keeps, and the demo data."""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import make_settings
from contact_events.builder.core.errors import PipelineError
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.pipeline import rebuild
from contact_events.builder.stages.load import load_directory
from contact_events.builder.validate.api import check_mirror, keep_failed_report, validate
from contact_events.builder.validate.findings import (
    FIELD_DIFFERS,
    MAX_FINDINGS,
    MIRROR,
    REJECT_MISSING,
    WAREHOUSE,
)

from .cases import CONTACT_IDS, EXPECTED_FIELDS, FORMS, build, errors_of, mutate, run

# --------------------------------------------------------------------------- scope


def test_contacts_restriction_checks_only_their_events_and_rejects(fresh):
    mutate(
        fresh,
        WAREHOUSE,
        "UPDATE proj_contact_events SET event_name = 'x' WHERE source_record_id = 'm01'",  # c2
        "DELETE FROM proj_contact_events_rejects WHERE source_record_id = 'm11'",  # c3/c4
        "UPDATE proj_contact_events SET contact_id = 'c1' WHERE source_record_id = 'y04'",
    )
    only_ann = run(fresh, contacts=["c1"])
    # y04 (c7's) was moved to c1 in the ledger: c1's view sees it.
    assert [(f.kind, f.source_record_id, f.field) for f in errors_of(only_ann)] == [
        (FIELD_DIFFERS, "y04", "contact_id")
    ]
    c1_events = sum(
        1
        for key, fields in EXPECTED_FIELDS.items()
        if fields.get("contact_id") == "c1" and key[0] != FORMS
    )
    assert only_ann.events_checked > c1_events
    assert only_ann.contacts_checked == 1
    bob = run(fresh, contacts=["c2"])
    assert [(f.kind, f.source_record_id) for f in errors_of(bob)] == [(FIELD_DIFFERS, "m01")]
    couple = run(fresh, contacts=["c4"])
    assert [(f.kind, f.source_record_id) for f in errors_of(couple)] == [(REJECT_MISSING, "m11")]
    unknown = run(fresh, contacts=["nope"])  # an unknown contact id: its rejects only
    assert unknown.ok and unknown.rejects_checked == 2 and unknown.events_checked == 0


def test_sample_is_seeded_and_sized(traps):
    a = run(traps, sample=3, seed=1)
    b = run(traps, sample=3, seed=1)
    c = run(traps, sample=3, seed=2)
    assert a.selection == b.selection and len(a.selection) == 3
    assert set(a.selection) <= CONTACT_IDS
    assert a.ok and a.contacts_checked == 3
    assert c.ok and len(c.selection) == 3
    everyone = run(traps, sample=100)
    assert set(everyone.selection) == CONTACT_IDS and everyone.ok


def test_sample_catches_a_mutation_of_a_sampled_contact(fresh):
    sampled = run(fresh, sample=1, seed=5).selection
    (cid,) = sampled
    mutate(fresh, MIRROR, f"DELETE FROM contact_events WHERE contact_id = '{cid}'")
    result = run(fresh, sample=1, seed=5)
    assert not result.ok
    assert {f.contact_id for f in errors_of(result)} == {cid}


# --------------------------------------------------------------------------- pipeline hook


def test_check_mirror_records_validation_in_ledger_builds(tmp_path):
    settings = build(tmp_path)
    report = rebuild(settings, validate=True)
    assert report.sync.validation["ok"] is True
    con = sqlite3.connect(settings.mirror_path)
    try:
        stored = con.execute(
            "SELECT validation FROM ledger_builds ORDER BY rowid DESC LIMIT 1"
        ).fetchone()[0]
    finally:
        con.close()
    assert json.loads(stored)["events_checked"] == report.sync.validation["events_checked"]


def test_check_mirror_failure_keeps_the_old_mirror(tmp_path):
    settings = build(tmp_path)
    before = settings.mirror_path.read_bytes()
    # A check that believes in other practice addresses disagrees on every email.
    wrong = settings.model_copy(update={"practice_emails": ["someone@else.example"]})
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        with pytest.raises(PipelineError, match="mirror not replaced") as err:
            rebuild(settings, check=check_mirror(wh, wrong))
    assert settings.mirror_path.read_bytes() == before
    assert not list(tmp_path.glob(".contact_events.db.tmp-*"))
    # The whole report is kept beside the mirror, for the owner only; the message (which
    # reaches logs) names the file and counts, never a value.
    (kept,) = settings.mirror_path.parent.glob("contact_events.db.validation-failed-*.json")
    assert str(kept) in str(err.value)
    assert kept.stat().st_mode & 0o777 == 0o600
    report = json.loads(kept.read_text())
    assert report["ok"] is False and report["errors"] > 0
    assert len(report["findings"]) == min(report["errors"] + report["warnings"], MAX_FINDINGS)
    differing = [f for f in report["findings"] if f["kind"] == "field_differs"]
    assert differing and all(f["expected"] != f["actual"] for f in differing)
    assert "@" not in str(err.value)


def test_failed_reports_are_kept_ten_at_most(tmp_path):
    settings = build(tmp_path)
    wrong = settings.model_copy(update={"practice_emails": ["someone@else.example"]})
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        result = validate(wh, wrong, settings.mirror_path)
    assert not result.ok
    written = [keep_failed_report(result, settings.mirror_path) for _ in range(12)]
    left = sorted(settings.mirror_path.parent.glob("contact_events.db.validation-failed-*"))
    assert left == sorted(written[2:])


def test_a_report_that_cannot_be_written_still_fails_the_run_clearly(tmp_path, monkeypatch):
    import errno

    import contact_events.builder.validate.api as validate_api

    settings = build(tmp_path)
    wrong = settings.model_copy(update={"practice_emails": ["someone@else.example"]})
    before = settings.mirror_path.read_bytes()

    def disk_full(*args, **kwargs):  # a full disk: no local process plays one on demand
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(validate_api, "keep_failed_report", disk_full)
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        with pytest.raises(PipelineError, match="mismatches.*report not kept: No space"):
            rebuild(settings, check=check_mirror(wh, wrong))
    assert settings.mirror_path.read_bytes() == before


# --------------------------------------------------------------------------- demo data


def test_demo_data_validates(tmp_path):
    demo = pytest.importorskip(
        "contact_events.builder.demo.flat", reason="builder/demo/flat.py not written yet"
    )
    canon = tmp_path / "demo"
    demo.write_demo_data(canon, demo.DemoSize(contacts=150, events=6000, seed=3))
    settings = make_settings(tmp_path, practice_emails=list(demo.PRACTICE_EMAILS))
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, canon)
    report = rebuild(settings, check=None)
    result = run(settings)
    assert result.events_checked == sum(report.build.ledger_rows.values())
    assert result.reference["rejects_by_reason"] == report.build.rejects_by_reason
    assert result.reference["duplicates"] == report.build.duplicates
    assert errors_of(result) == []

"""builder/validate/reference.py: the reference ledger's reasons (resolution) and its
deduplicated contacts, checked against the hand-written answer."""

from __future__ import annotations

import sqlite3

from contact_events.builder.validate.reference import CONTACT_COLUMNS, _reason

from .cases import (
    CONTACT_IDS,
    CONTACTS,
    EXPECTED_CONTACTS,
    EXPECTED_REASONS,
    MISSING_IDS,
    TABLES,
    build,
    errors_of,
    run,
)


def test_reference_reasons_match_the_hand_written_answer(reference):
    outcomes, missing, _ = reference
    got = {key: _reason(outcome) for key, (_, outcome) in outcomes.items()}
    assert got == EXPECTED_REASONS
    assert {k: n for k, n in missing.items() if n} == MISSING_IDS


def test_reference_contacts_dedupe(reference):
    *_, contacts = reference
    assert set(contacts.rows) == CONTACT_IDS
    names = CONTACT_COLUMNS
    for cid, fields in EXPECTED_CONTACTS.items():
        row = dict(zip(names, contacts.rows[cid], strict=True))
        assert {k: row[k] for k in fields} == fields, cid
    assert sorted(contacts.by_email["couple@example.org"]) == ["c3", "c4"]
    assert sorted(contacts.by_email["x@a.org"]) == ["c13", "c14"]
    assert contacts.by_email["dup@example.org"] == ["c10"]


def test_empty_contact_email_is_expected_as_null(tmp_path):
    settings = build(
        tmp_path, {**TABLES, "contacts": [*CONTACTS, {"contact_id": "c9", "email": ""}]}
    )
    result = run(settings)
    found = [f for f in errors_of(result) if f.contact_id == "c9"]
    with sqlite3.connect(settings.mirror_path) as con:
        (stored,) = con.execute("SELECT email FROM contacts WHERE contact_id = 'c9'").fetchone()
    assert stored is None  # '' counts as null, in the projection too
    assert found == []

"""One email rule everywhere. An email is trimmed (spaces, tabs, CR, LF)
and its ASCII letters A-Z are lower-cased; nothing else changes (README "Emails"). The
table of hard characters below runs on DuckDB, on the BigQuery emulator and through the
reference path (builder.validate), and the three must agree with the rule; a `run` over
contacts such as ΟΔΟΣ@example.gr validates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cli_support import run_cli
from conftest import make_settings, write_canonicals
from contact_events.builder.core.contract import ASCII_LOWER, TRIM_CHARS
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.build import build
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.sync import sync
from contact_events.builder.validate.api import validate
from contact_events.builder.validate.mapping import norm_email

# (name, the contact's email, an event's email that must match it, one that must not)
HARD = [
    ("final sigma", "ΟΔΟΣ@example.gr", " ΟΔΟΣ@EXAMPLE.GR\t", "οδος@example.gr"),
    ("final sigma lower", "σοφος@example.gr", "σοφος@Example.GR", "σοφοσ@example.gr"),
    ("dotted capital I", "İLKER@example.tr", "İlker@example.tr", "i̇lker@example.tr"),
    ("capital sharp s", "STRAẞE@example.de", "straẞe@example.de", "straße@example.de"),
    ("dotless i", "ılgın@example.tr", "ıLGıN@EXAMPLE.tr", "ilgin@example.tr"),
    ("full-width", "ＡＢＣ@example.org", "ＡＢＣ@EXAMPLE.ORG", "ａｂｃ@example.org"),
    ("combining mark", "JOSE\u0301@example.es", "jose\u0301@example.es", "josé@example.es"),
    ("kelvin sign", "\u212aate@example.org", "\u212aATE@example.org", "kate@example.org"),
]


def rule(email: str) -> str:
    return email.strip(TRIM_CHARS).translate(ASCII_LOWER)


def canonicals() -> dict[str, list[dict]]:
    contacts, messages = [], []
    for i, (_name, email, same, other) in enumerate(HARD):
        contacts.append({"contact_id": f"c{i}", "email": email, "lifecycle_stage": "active"})
        messages += [
            {"message_id": f"same{i}", "channel": "sms", "direction": "inbound",
             "contact_email": same, "sent_at": "2024-03-01T10:00:00Z"},
            {"message_id": f"other{i}", "channel": "sms", "direction": "inbound",
             "contact_email": other, "sent_at": "2024-03-01T10:00:00Z"},
            {"message_id": f"byid{i}", "channel": "sms", "direction": "INBOUND",
             "contact_id": f"c{i}", "sent_at": "2024-03-01T10:00:00Z"},
        ]  # fmt: skip
    return {"contacts": contacts, "messages": messages}


def expected() -> dict[str, tuple[str | None, str]]:
    """source_record_id -> (contact_id, contact_email) by the rule."""
    found = {}
    for i, (_name, email, same, other) in enumerate(HARD):
        assert rule(same) == rule(email) and rule(other) != rule(email)
        found[f"same{i}"] = (f"c{i}", rule(same))
        found[f"other{i}"] = (None, rule(other))  # an orphan, its email kept as normalised
        found[f"byid{i}"] = (f"c{i}", rule(email))
    return found


def ledger(mirror: Path) -> dict[str, tuple[str | None, str]]:
    con = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT source_record_id, contact_id, contact_email FROM contact_events")
        return {r[0]: (r[1], r[2]) for r in rows}
    finally:
        con.close()


@pytest.mark.parametrize(("name", "email", "same", "other"), HARD, ids=[h[0] for h in HARD])
def test_the_reference_path_applies_the_rule(name, email, same, other):
    assert norm_email(email) == norm_email(same) == rule(email)
    assert norm_email(other) != norm_email(email)
    assert norm_email(" \t\r\n") is None


def test_duckdb_follows_the_rule_and_the_reference_path_agrees(tmp_path):
    settings = make_settings(tmp_path)
    folder = write_canonicals(tmp_path / "c", canonicals())
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, folder)
        build(wh, settings)
        sync(wh, settings.mirror_path)
        result = validate(wh, settings, settings.mirror_path)
    assert ledger(settings.mirror_path) == expected()
    assert result.ok and result.errors == 0, result.summary()
    # The mirror's SQLite lower() is ASCII-only too: what the API compares against.
    con = sqlite3.connect(f"file:{settings.mirror_path}?mode=ro", uri=True)
    try:
        for email in [h[1] for h in HARD]:
            (lowered,) = con.execute("SELECT lower(trim(?, ' ' || char(9, 10, 13)))", (email,))
            assert lowered[0] == rule(email), email
    finally:
        con.close()


def test_bigquery_follows_the_rule_and_the_reference_path_agrees(tmp_path, bigquery_warehouse):
    settings = make_settings(tmp_path)
    folder = write_canonicals(tmp_path / "c", canonicals())
    load_directory(bigquery_warehouse, folder)
    build(bigquery_warehouse, settings)
    sync(bigquery_warehouse, tmp_path / "bq.db")
    result = validate(bigquery_warehouse, settings, tmp_path / "bq.db")
    assert ledger(tmp_path / "bq.db") == expected()
    assert result.ok and result.errors == 0, result.summary()


GREEK_RECIPIENTS = ["ΟΔΟΣ@EXAMPLE.GR", "ΟΔΥΣΣΕΑΣ@example.gr", "οδος@example.gr"]


def test_a_run_over_greek_contacts_validates_and_replaces_the_mirror(tmp_path):
    env = {
        "CONTACT_EVENTS_DUCKDB_PATH": str(tmp_path / "wh.duckdb"),
        "CONTACT_EVENTS_MIRROR_PATH": str(tmp_path / "m.db"),
        "CONTACT_EVENTS_PRACTICE_EMAILS": "front@practice.example",
    }
    folder = write_canonicals(
        tmp_path / "c",
        {
            "contacts": [
                {"contact_id": "g1", "email": "ΟΔΟΣ@example.gr"},
                {"contact_id": "g2", "email": "ΟΔΥΣΣΕΑΣ@Example.GR "},
            ],
            "email_events": [
                {"email_event_id": f"e{i}", "provider": "gmail",
                 "from_email": "front@practice.example", "to_emails": [to],
                 "subject": "Ραντεβού", "sent_at": "2024-03-01T10:00:00Z"}
                for i, to in enumerate(GREEK_RECIPIENTS)
            ],
            "messages": [
                {"message_id": "m1", "channel": "sms", "direction": "inbound",
                 "contact_email": " ΟΔΟΣ@example.gr", "sent_at": "2024-03-02T10:00:00Z"},
            ],
        },
    )  # fmt: skip
    assert run_cli(["load", str(folder)], env, tmp_path).returncode == 0
    for _ in range(2):  # and again: the mirror is replaced each time
        result = run_cli(["run"], env, tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "validation passed" in result.stdout
    rows = ledger(tmp_path / "m.db")
    assert rows["e0"] == ("g1", "ΟΔΟΣ@example.gr")
    assert rows["e1"] == ("g2", "ΟΔΥΣΣΕΑΣ@example.gr")
    assert rows["e2"] == (None, "οδος@example.gr")
    assert rows["m1"] == ("g1", "ΟΔΟΣ@example.gr")

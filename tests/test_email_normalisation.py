"""One email rule everywhere (CONTRACT §2): an email is trimmed (spaces, tabs, CR, LF) and
each character replaced by its Unicode simple case folding (CaseFolding.txt statuses C and
S, the table in builder/core/casefold.py); nothing else changes. The table of hard characters
below runs on DuckDB, on the BigQuery emulator and through the reference path
(builder.validate), and the three must agree with the rule written out by hand here; the
mirror stores the normalised values the API answers with."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cli_support import run_cli
from conftest import make_settings, write_canonicals
from contact_events.builder.core import contract as c
from contact_events.builder.core.config import Settings
from contact_events.builder.engine import sql
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.build import build
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.strategy import plan
from contact_events.builder.stages.sync import sync
from contact_events.builder.validate.api import validate
from contact_events.builder.validate.mapping import norm_email

# (name, the contact's email, an event's email that must match it, one that must not,
#  the normalised address, written out by hand from CaseFolding.txt)
HARD = [
    ("sigma", "ΟΔΟΣ@example.gr", " ΟΔΟΣ@EXAMPLE.GR\t", "οδοϲ@example.gr", "οδοσ@example.gr"),
    ("final sigma", "σοφος@example.gr", "ΣΟΦΟΣ@Example.GR", "σοφο@example.gr",
     "σοφοσ@example.gr"),
    ("capital sharp s", "STRAẞE@example.de", "straße@EXAMPLE.de", "strasse@example.de",
     "straße@example.de"),
    ("dotted capital I", "İLKER@example.tr", "İlker@example.tr", "i̇lker@example.tr",
     "İlker@example.tr"),
    ("dotless i", "ılgın@example.tr", "ıLGıN@EXAMPLE.tr", "ilgin@example.tr",
     "ılgın@example.tr"),
    ("o with stroke", "SØREN.25@example.dk", "søren.25@Example.DK", "soren.25@example.dk",
     "søren.25@example.dk"),
    ("accent", "lÉa.43@example.fr", "LÉA.43@EXAMPLE.FR", "lea.43@example.fr",
     "léa.43@example.fr"),
    ("full-width", "ＡＢＣ@example.org", "ａｂｃ@EXAMPLE.ORG", "abc@example.org",
     "ａｂｃ@example.org"),
    ("greek tonos", "ΆΝΝΑ@example.gr", "άννα@example.gr", "αννα@example.gr", "άννα@example.gr"),
    ("combining mark", "JOSE\u0301@example.es", "jose\u0301@example.es", "josé@example.es",
     "jose\u0301@example.es"),
    ("kelvin sign", "\u212aATE@example.org", "kate@example.org", "ķate@example.org",
     "kate@example.org"),
    ("deseret", "\U00010400\U00010401@example.org", "\U00010428\U00010429@example.org",
     "\U00010428@example.org", "\U00010428\U00010429@example.org"),
]  # fmt: skip


def canonicals() -> dict[str, list[dict]]:
    contacts, messages = [], []
    for i, (_name, email, same, other, _norm) in enumerate(HARD):
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
    """source_record_id -> (contact_id, contact_email), from the hand-written column."""
    found = {}
    for i, (_name, _email, _same, other, norm) in enumerate(HARD):
        found[f"same{i}"] = (f"c{i}", norm)
        found[f"other{i}"] = (None, other)  # an orphan: already normalised as written
        found[f"byid{i}"] = (f"c{i}", norm)
    return found


def ledger(mirror: Path) -> dict[str, tuple[str | None, str]]:
    con = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT source_record_id, contact_id, contact_email FROM contact_events")
        return {r[0]: (r[1], r[2]) for r in rows}
    finally:
        con.close()


def mirror_contacts(mirror: Path) -> dict[str, str]:
    con = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)
    try:
        return dict(con.execute("SELECT contact_id, email FROM contacts"))
    finally:
        con.close()


@pytest.mark.parametrize(("name", "email", "same", "other", "norm"), HARD, ids=[h[0] for h in HARD])
def test_the_reference_path_applies_the_rule(name, email, same, other, norm):
    assert norm_email(email) == norm_email(same) == norm
    assert norm_email(other) == other != norm
    assert norm_email(norm) == norm  # once normalised, stays so
    assert norm_email(" \t\r\n") is None


def test_practice_emails_in_settings_follow_the_rule():
    settings = Settings(practice_emails=" HELLO@PRACTICE.EXAMPLE , SØREN@Practice.Example\t")
    assert settings.practice_emails == ["hello@practice.example", "søren@practice.example"]


def _check_warehouse(wh, settings: Settings, mirror: Path) -> None:
    load_directory(wh, write_canonicals(mirror.parent / f"{mirror.stem}-c", canonicals()))
    build(wh, settings)
    sync(wh, mirror)
    result = validate(wh, settings, mirror)
    assert ledger(mirror) == expected()
    # the mirror stores the contacts' emails normalised: what the API answers with
    assert mirror_contacts(mirror) == {f"c{i}": h[4] for i, h in enumerate(HARD)}
    assert result.ok and result.errors == 0, result.summary()


def test_duckdb_follows_the_rule_and_the_reference_path_agrees(tmp_path):
    settings = make_settings(tmp_path)
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        _check_warehouse(wh, settings, settings.mirror_path)


def test_bigquery_follows_the_rule_and_the_reference_path_agrees(tmp_path, bigquery_warehouse):
    settings = make_settings(tmp_path)
    _check_warehouse(bigquery_warehouse, settings, tmp_path / "bq.db")


def test_the_duckdb_lookup_is_translate_over_the_whole_table(tmp_path):
    """DuckDB runs the rule as a per-character lookup (builder/sql.py): over every
    character of the table at once, in both directions, it gives what TRANSLATE does in
    Python."""
    tree = sql.parse(
        "SELECT TRANSLATE(TRIM(x, ' \\t\\n\\r'), @casefold_from, @casefold_to) AS folded "
        "FROM inputs ORDER BY pos"
    )[0]
    rendered = sql._statement(tree, "duckdb", "test")
    assert "TRANSLATE" not in rendered.sql.upper()
    inputs = [c.CASEFOLD_FROM, c.CASEFOLD_TO, "  Ab\u212a\U00010400\r\n", "", "plain@x.org", None]
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        wh.con.execute("CREATE TABLE inputs (pos INTEGER, x VARCHAR)")
        wh.con.executemany("INSERT INTO inputs VALUES (?, ?)", list(enumerate(inputs)))
        params = {"casefold_from": c.CASEFOLD_FROM, "casefold_to": c.CASEFOLD_TO}
        rows = wh.con.execute(rendered.sql, params).fetchall()
    assert [r[0] for r in rows] == [
        c.CASEFOLD_TO,
        c.CASEFOLD_TO,
        "abk\U00010428",
        "",
        "plain@x.org",
        None,
    ]


GREEK_RECIPIENTS = ["ΟΔΟΣ@EXAMPLE.GR", "ΟΔΥΣΣΕΑΣ@example.gr", "οδος@example.gr", "άννα@example.gr"]


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
                {"contact_id": "g3", "email": "ΆΝΝΑ@example.gr"},
            ],
            "email_events": [
                {"email_event_id": f"e{i}", "provider": "gmail",
                 "from_email": "FRONT@Practice.Example", "to_emails": [to],
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
    assert rows["e0"] == ("g1", "οδοσ@example.gr")
    assert rows["e1"] == ("g2", "οδυσσεασ@example.gr")
    assert rows["e2"] == ("g1", "οδοσ@example.gr")  # final sigma folds to sigma
    assert rows["e3"] == ("g3", "άννα@example.gr")
    assert rows["m1"] == ("g1", "οδοσ@example.gr")


def test_the_first_build_after_the_rules_changed_is_a_full_one(tmp_path):
    """A warehouse whose last build was made under other resolution rules (an earlier
    email rule) is rebuilt in full even when an incremental build is asked: an
    incremental one would keep the old answer for every record it does not re-resolve."""
    settings = make_settings(tmp_path)
    folder = write_canonicals(tmp_path / "c", canonicals())
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, folder)
        build(wh, settings)
        assert build(wh, settings, plan(wh, "incremental")).mode == "incremental"
        (report,) = wh.con.execute("SELECT report FROM proj_contact_events_build").fetchone()
        older = {k: v for k, v in json.loads(report).items() if k != "rules"}
        wh.con.execute("UPDATE proj_contact_events_build SET report = ?", [json.dumps(older)])
        again = build(wh, settings, plan(wh, "incremental"))
    assert again.mode == "full"
    assert "other resolution rules" in again.strategy["reason"]
    assert again.rules == c.RESOLUTION_RULES

"""Profiles (CONTRACT §7): a folder of source files, each declaring what it is; the
worked example of a practice's own folder (examples/sources/) end to end; and every way
a folder can be wrong, each one line naming the file, before any build starts."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from contact_events.builder.core.config import Settings
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.build import build
from contact_events.builder.stages.profiles import PROFILES_DIR, ProfileError, load_profile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sources"

CONTACTS = """-- contact-events: contacts
SELECT contact_id, email, first_name, last_name, lifecycle_stage, client_type_code, updated_at
FROM people
"""
SOURCE = """-- contact-events: source
-- source_system: mine.calls
-- event_type: call
SELECT
  id AS source_record_id, 'call' AS event_name, 'phone' AS event_source,
  at AS timestamp_raw, at AS created_at_raw, who AS source_contact_id,
  CAST(NULL AS STRING) AS source_email, '{}' AS payload
FROM calls
"""


def src(old: str, new: str) -> dict[str, str]:
    """The good folder with one change to its source file."""
    return {"people": CONTACTS, "calls": SOURCE.replace(old, new, 1)}


def folder(tmp_path: Path, **files: str) -> Path:
    out = tmp_path / "sources"
    out.mkdir()
    for name, text in files.items():
        (out / f"{name}.sql").write_text(text)
    return out


def test_the_built_in_profiles_declare_their_event_types():
    flat = load_profile(PROFILES_DIR / "flat", "flat")
    assert flat.event_types == ("form", "session", "email", "message", "system")
    lorchestra = load_profile(PROFILES_DIR / "lorchestra", "lorchestra")
    assert lorchestra.event_types == ("form", "session", "email", "invoice", "payment", "refund")
    assert "stripe_payment" in lorchestra.source_systems
    assert lorchestra.tables is not None and set(lorchestra.tables) == {
        "canonical_objects",
        "measurement_events",
    }


def test_a_folder_with_its_own_event_type(tmp_path):
    profile = load_profile(folder(tmp_path, people=CONTACTS, calls=SOURCE), "custom")
    assert profile.event_types == ("call",) and profile.source_systems == ("mine.calls",)
    assert profile.tables is None  # nothing for `load` to write


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"calls": SOURCE}, "exactly one file must declare `-- contact-events: contacts`"),
        ({"people": CONTACTS}, "no file declares `-- contact-events: source`"),
        (
            src("-- contact-events: source\n", ""),
            "calls.sql: the file must start with a `-- contact-events: source|contacts|inputs`",
        ),
        (
            src("-- source_system: mine.calls\n", ""),
            "calls.sql: a source must declare `-- source_system: <name>`",
        ),
        (
            src("event_type: call", "event_type: Call!"),
            "calls.sql: a source must declare `-- event_type: <type>`",
        ),
        (
            src("'phone' AS event_source,", ""),
            "calls.sql: missing column 'event_source'",
        ),
        (
            src("'{}' AS payload", "'{}' AS payload, 1 AS x"),
            "calls.sql: extra column 'x'",
        ),
        (
            {"people": CONTACTS, "calls": "-- contact-events: source\n-- source_system: a\n"
             "-- event_type: call\nSELECT * FROM calls"},
            "calls.sql: select the columns by name, not with *",
        ),
        (
            src("FROM calls", "FROM calls WHERE at > @since"),
            "calls.sql: unknown parameter @since",
        ),
        (
            {"people": CONTACTS, "calls": SOURCE, "calls2": SOURCE},
            "source_system 'mine.calls' is declared by calls.sql too",
        ),
        (
            {"people": CONTACTS.replace("updated_at\n", "updated_at, 1 AS x\n"), "calls": SOURCE},
            "people.sql: extra column 'x'",
        ),
        ({"people": CONTACTS, "calls": SOURCE + ";\nSELECT 1"}, "must hold exactly one SELECT"),
        (src("SELECT", "SELEC"), "not valid GoogleSQL"),
    ],
)  # fmt: skip
def test_a_bad_folder_is_one_error_naming_the_file(tmp_path, files, message):
    with pytest.raises(ProfileError) as raised:
        load_profile(folder(tmp_path, **files), "custom")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_missing_folder(tmp_path):
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile(tmp_path / "nope", "custom")


def test_a_missing_table_is_named_before_the_build_starts(tmp_path):
    sources = folder(tmp_path, people=CONTACTS, calls=SOURCE)
    settings = Settings(sources_dir=sources, duckdb_path=tmp_path / "w.duckdb")
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        wh.execute("CREATE TABLE people (contact_id VARCHAR)")
        with pytest.raises(Exception, match=r"calls \(read by calls.sql\)"):
            build(wh, settings)
        assert not wh.table_exists("proj_contact_events")


def test_a_source_that_fails_in_the_engine_is_named_alone(tmp_path):
    """Sources are staged in one statement; when it fails, the file at fault is named
    (each file is tried alone), not every file of the folder."""
    calls = SOURCE.replace("at AS", "ts AS")
    notes = calls.replace("mine.calls", "mine.notes").replace("FROM calls", "FROM notes")
    bad = notes.replace("ts AS timestamp_raw", "CAST(ts AS DATE) AS timestamp_raw", 1)
    sources = folder(tmp_path, people=CONTACTS, calls=calls, notes=bad)
    settings = Settings(sources_dir=sources, duckdb_path=tmp_path / "w.duckdb")
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        wh.execute("CREATE TABLE people (contact_id VARCHAR, email VARCHAR, first_name "
                   "VARCHAR, last_name VARCHAR, lifecycle_stage VARCHAR, client_type_code "
                   "VARCHAR, updated_at VARCHAR)")  # fmt: skip
        wh.execute("CREATE TABLE calls (id VARCHAR, ts VARCHAR, who VARCHAR)")
        wh.execute("CREATE TABLE notes (id VARCHAR, ts VARCHAR, who VARCHAR)")
        wh.execute("INSERT INTO notes VALUES ('N-1', 'not a date', 'CL-1')")
        with pytest.raises(Exception, match=r"source file \S*notes\.sql: ") as caught:
            build(wh, settings)
        assert "calls.sql" not in str(caught.value)


def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    full = {**os.environ, **env, "COLUMNS": "200"}
    full = {k: v for k, v in full.items() if not (k.startswith("CONTACT_EVENTS_") and k not in env)}
    return subprocess.run(
        [sys.executable, "-m", "contact_events.builder.cli", *args],
        env=full,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_an_unknown_profile_is_one_line_listing_the_valid_ones(tmp_path):
    result = cli("build", env={"CONTACT_EVENTS_PROFILE": "lorchestr"}, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "CONTACT_EVENTS_PROFILE" in lines[0] and "'flat'" in lines[0]
    assert "'lorchestra'" in lines[0]


def test_the_worked_example_end_to_end(tmp_path):
    """README: seed examples/warehouse.sql into a DuckDB file, point SOURCES_DIR at
    examples/sources/, `run` (build, sync, validate) through the real entry point."""
    warehouse = tmp_path / "own.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute((ROOT / "examples" / "warehouse.sql").read_text())
    con.close()
    env = {
        "CONTACT_EVENTS_SOURCES_DIR": str(EXAMPLE),
        "CONTACT_EVENTS_DUCKDB_PATH": str(warehouse),
        "CONTACT_EVENTS_MIRROR_PATH": str(tmp_path / "own.db"),
    }
    result = cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "validation passed" in result.stdout
    assert "staged" in result.stdout and "your source SQL itself was not" in result.stdout
    mirror = sqlite3.connect(tmp_path / "own.db")
    try:
        events = {
            row[0]: row[1:]
            for row in mirror.execute(
                "SELECT source_record_id, contact_id, event_type, event_timestamp "
                "FROM contact_events"
            )
        }
        rejects = dict(
            mirror.execute("SELECT source_record_id, reason FROM contact_events_rejects")
        )
        build_row = mirror.execute("SELECT profile, event_types FROM ledger_builds").fetchone()
        contacts = dict(mirror.execute("SELECT contact_id, email FROM contacts"))
    finally:
        mirror.close()
    assert build_row[0] == "custom"
    assert json.loads(build_row[1]) == ["session", "message", "reminder"]
    assert events["A-1"] == ("CL-1", "session", "2025-03-03 10:00:00.000000")
    assert events["T-1"] == ("CL-1", "message", "2025-03-02 17:00:00.000000")  # +01:00 -> UTC
    assert events["R-1"][:2] == ("CL-1", "reminder")
    assert events["T-3"][0] is None  # an orphan
    assert rejects == {
        "A-4": "unknown_contact_id",
        "A-5": "missing_timestamp",
        "T-3": "orphan",
        "T-4": "bad_timestamp",
        None: "missing_record_id",
    }
    assert contacts["CL-3"] == "grace.h@example.org"  # the later `modified`


@pytest.mark.parametrize("name", ["flat", "lorchestra"])
@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_the_progress_bar_counts_every_step_of_a_build(tmp_path, name, mode):
    from contact_events.builder.stages.build import STEP_COUNT, plan
    from contact_events.builder.stages.strategy import Strategy

    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        steps = plan(wh, load_profile(PROFILES_DIR / name, name), Strategy(mode, mode, "test"))
    assert len(steps) == STEP_COUNT


def test_the_flat_profile_declares_the_contract_s_tables():
    """The flat profile's files declare CONTRACT §1's tables, column for column in the
    contract's order, strings but for session_num (INT64) and to_emails, labels (arrays)."""
    import re

    from contact_events.builder.core import contract as c

    contract = (Path(__file__).resolve().parents[1] / "docs" / "contract.md").read_text()
    section = contract.split("## 1.", 1)[1].split("## 2.", 1)[0]
    tables = {}
    for line in section.splitlines():
        cells = line.split("|")
        if len(cells) == 4 and (name := re.fullmatch(r"\s*`(\w+)`\s*", cells[1])):
            columns = re.findall(r"`(\w+)`(?: \([^)]*\))?(?:,|$)", cells[2].strip())
            tables[name.group(1)] = columns
    assert set(tables) >= {"contacts", "messages", "clinical_sessions"}
    flat = load_profile(PROFILES_DIR / "flat", "flat").tables
    assert flat is not None
    assert {t: list(columns) for t, columns in flat.items()} == tables
    types = {(t, col): kind for t, columns in flat.items() for col, kind in columns.items()}
    assert {k: v for k, v in types.items() if v != c.STRING} == {
        ("clinical_sessions", "session_num"): c.INT64,
        ("email_events", "to_emails"): c.STRING_ARRAY,
        ("email_events", "labels"): c.STRING_ARRAY,
    }
    assert list(flat["contacts"]) == list(c.CONTACT_COLUMNS)

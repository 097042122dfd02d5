"""Shared fixtures: real DuckDB warehouses and real SQLite mirrors in tmp_path."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from contact_events.builder.core.config import Settings
from contact_events.builder.engine import open_warehouse
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.build import BuildReport, build
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.profiles import PROFILES_DIR, load_profile, profile_of
from contact_events.builder.stages.sync import SyncReport, sync

# The built-in profiles' canonical tables (column -> type), as their files declare them.
FLAT = load_profile(PROFILES_DIR / "flat", "flat")
CANONICAL_TABLES = FLAT.tables
LORCHESTRA_TABLES = load_profile(PROFILES_DIR / "lorchestra", "lorchestra").tables
# flat event source table -> (source_system, its record id: the table's first column)
SOURCES = {
    table: (source.source_system, next(iter(columns)))
    for source in FLAT.sources
    for table, columns in source.tables.items()
}

PRACTICE = "front@practice.example"


def write_canonicals(directory: Path, tables: Mapping[str, Sequence[Mapping[str, object]]]) -> Path:
    """Write `{table: [row, ...]}` as DIR/<table>.jsonl, the CONTRACT §1 input format."""
    directory.mkdir(parents=True, exist_ok=True)
    for table, rows in tables.items():
        with (directory / f"{table}.jsonl").open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return directory


def make_settings(root: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "duckdb_path": root / "warehouse.duckdb",
        "mirror_path": root / "contact_events.db",
        "practice_emails": [PRACTICE],
    }
    values.update(overrides)
    return Settings(**values)


def build_mirror(
    root: Path, tables: Mapping[str, Sequence[Mapping[str, object]]], **overrides: object
) -> tuple[Settings, BuildReport, SyncReport]:
    """canonical rows -> JSONL -> load -> build -> sync, all on real files under root."""
    settings = make_settings(root, **overrides)
    canon = write_canonicals(root / "canonicals", tables)
    with open_warehouse(settings) as wh:
        load_directory(wh, canon, profile=profile_of(settings))
        report = build(wh, settings)
        synced = sync(wh, settings.mirror_path)
    return settings, report, synced


def open_ro(path: Path | str) -> sqlite3.Connection:
    """Open a SQLite mirror read-only, rows as sqlite3.Row."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    return con


def mirror_fixture(
    name: str, tables: Mapping[str, Sequence[Mapping[str, object]]], **overrides: object
):
    """A module-scoped fixture: build_mirror(tables) once under a tmp dir called `name`,
    then yield (read-only sqlite3.Row connection, BuildReport, Settings).

    Use as `mirror = mirror_fixture("forms", {"contacts": CONTACTS, ...})` in a test module."""

    @pytest.fixture(scope="module")
    def mirror(tmp_path_factory):
        settings, report, _ = build_mirror(tmp_path_factory.mktemp(name), tables, **overrides)
        con = open_ro(settings.mirror_path)
        yield con, report, settings
        con.close()

    return mirror


def ledger(con: sqlite3.Connection) -> list[dict[str, object]]:
    """The mirror's contact_events, ordered by source_record_id, payload JSON parsed."""
    rows = [dict(r) for r in con.execute("SELECT * FROM contact_events ORDER BY source_record_id")]
    for row in rows:
        row["payload"] = json.loads(row["payload"])
    return rows


def by_record_id(rows: Sequence[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {row["source_record_id"]: row for row in rows}


def warehouse_ledger(settings: Settings) -> list[dict[str, object]]:
    """The DuckDB warehouse's proj_contact_events, ordered by source_record_id, in the
    mirror's shape: asserts every event_timestamp is UTC, then renders it as the mirror's
    'YYYY-MM-DD HH:MM:SS.ffffff' text; payload JSON parsed."""
    with DuckDBWarehouse(settings.duckdb_path, read_only=True) as wh:
        rows = wh.fetch("SELECT * FROM proj_contact_events ORDER BY source_record_id")
    for row in rows:
        ts = row["event_timestamp"]
        assert ts.utcoffset() == timedelta(0), row["source_record_id"]
        row["event_timestamp"] = ts.strftime("%Y-%m-%d %H:%M:%S.%f")
        row["payload"] = json.loads(row["payload"])
    return rows


def assert_rejects(con: sqlite3.Connection, expected: set[tuple[str, str, str, str]]) -> list:
    """Assert contact_events_rejects holds exactly `expected`
    {(source_system, source_record_id, severity, reason)}, one row each; return the rows."""
    rows = con.execute("SELECT * FROM contact_events_rejects").fetchall()
    keys = {(r["source_system"], r["source_record_id"], r["severity"], r["reason"]) for r in rows}
    assert keys == expected
    assert len(rows) == len(expected)
    return rows


@pytest.fixture
def mirror_factory(tmp_path: Path):
    """Call with {table: rows} (and Settings overrides); returns (settings, build, sync)."""
    counter = iter(range(1000))

    def factory(tables, **overrides):
        return build_mirror(tmp_path / f"m{next(counter)}", tables, **overrides)

    return factory


@pytest.fixture(scope="session")
def bigquery_emulator():
    """One local BigQuery (REST + Storage Read gRPC) for the whole test session."""
    from bq_emulator import LocalBigQuery

    emulator = LocalBigQuery().start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def bigquery_warehouse(bigquery_emulator, request):
    """A BigQueryWarehouse on the emulator, in a dataset of its own for this test."""
    from contact_events.builder.engine.adapters.bigquery import BigQueryWarehouse

    dataset = "t_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[:60]
    warehouse = BigQueryWarehouse(
        "contact-events-test",
        dataset,
        endpoint=bigquery_emulator.rest_url,
        storage_endpoint=bigquery_emulator.grpc_endpoint,
        timeout=120,
        retry=False,
    )
    try:
        yield warehouse
    finally:
        warehouse.close()

"""The BigQuery path, through the official client, against a local BigQuery emulator.

The same GoogleSQL runs on BigQuery as written and on DuckDB transpiled; the two must
produce identical mirrors.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from conftest import make_settings, write_canonicals
from contact_events.builder.core.errors import WarehouseError
from contact_events.builder.engine.adapters.bigquery import BigQueryWarehouse
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.build import build
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.profiles import profile_of
from contact_events.builder.stages.sync import sync

MIRROR_TABLES = {
    "contact_events": "source_system, source_record_id",
    "contact_events_rejects": "source_system, source_record_id, reason, detail",
    "contacts": "contact_id",
}


def mirror_rows(path: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {
            table: con.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
            for table, order in MIRROR_TABLES.items()
        }
    finally:
        con.close()


def build_both(tmp_path: Path, canonicals: Path, bq: BigQueryWarehouse, **overrides):
    settings = make_settings(tmp_path, **overrides)
    profile = profile_of(settings)
    with DuckDBWarehouse(settings.duckdb_path) as duck:
        load_directory(duck, canonicals, profile=profile)
        duck_report = build(duck, settings)
        sync(duck, tmp_path / "duckdb.db")
    load_directory(bq, canonicals, profile=profile)
    bq_report = build(bq, settings)
    sync(bq, tmp_path / "bigquery.db")
    return duck_report, bq_report


def test_demo_data_gives_identical_mirrors_on_duckdb_and_bigquery(tmp_path, bigquery_warehouse):
    from contact_events.builder.demo.flat import PRACTICE_EMAILS, DemoSize, write_demo_data

    canonicals = tmp_path / "demo"
    write_demo_data(canonicals, DemoSize(contacts=120, events=4000, seed=11))
    duck_report, bq_report = build_both(
        tmp_path, canonicals, bigquery_warehouse, practice_emails=list(PRACTICE_EMAILS)
    )
    duck, bq = mirror_rows(tmp_path / "duckdb.db"), mirror_rows(tmp_path / "bigquery.db")
    for table in MIRROR_TABLES:
        assert len(duck[table]) > 0, table
        assert bq[table] == duck[table], f"{table} differs between DuckDB and BigQuery"
    assert bq_report.rejects_by_reason == duck_report.rejects_by_reason
    assert bq_report.duplicates == duck_report.duplicates
    # the demo data carries every trap, so every reason shows up on both engines
    assert all(n > 0 for n in bq_report.rejects_by_reason.values()), bq_report.rejects_by_reason
    assert set(bigquery_warehouse.read_paths.values()) == {"storage"}


# The client library's own Arrow page decoding warns it is deprecated; the adapter
# decodes the Storage Read messages itself, so none of that may show up here.
@pytest.mark.filterwarnings("error::PendingDeprecationWarning")
def test_sync_reads_through_storage_read_api(tmp_path, bigquery_warehouse):
    canonicals = write_canonicals(
        tmp_path / "c",
        {
            "contacts": [{"contact_id": "c1", "email": "a@x.example"}],
            "system_events": [
                {"system_event_id": f"s{i}", "contact_id": "c1", "occurred_at": "2024-01-01"}
                for i in range(25)
            ],
        },
    )
    settings = make_settings(tmp_path)
    load_directory(bigquery_warehouse, canonicals)
    build(bigquery_warehouse, settings)
    report = sync(bigquery_warehouse, tmp_path / "m.db")
    assert bigquery_warehouse.read_paths == {
        "proj_contact_events": "storage",
        "proj_contact_events_rejects": "storage",
        "proj_contacts": "storage",
    }
    assert report.rows["contact_events"] == 25


def test_sync_falls_back_to_rest_paging_without_storage_api(tmp_path, bigquery_emulator):
    import socket

    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    wh = BigQueryWarehouse(
        "contact-events-test",
        "t_rest_fallback",
        endpoint=bigquery_emulator.rest_url,
        storage_endpoint=dead,
        timeout=120,
        retry=False,
    )
    canonicals = write_canonicals(
        tmp_path / "c",
        {
            "contacts": [{"contact_id": "c1", "email": "a@x.example"}],
            "messages": [
                {"message_id": "m1", "contact_id": "c1", "sent_at": "2024-01-01T00:00:00Z"}
            ],
        },
    )
    load_directory(wh, canonicals)
    build(wh, make_settings(tmp_path))
    report = sync(wh, tmp_path / "m.db")
    assert set(wh.read_paths.values()) == {"rest"}
    assert report.rows == {"contact_events": 1, "contact_events_rejects": 0, "contacts": 1}


def test_sync_before_any_build_is_a_clear_error(tmp_path, bigquery_warehouse):
    with pytest.raises(WarehouseError, match="run `contact-events build`"):
        sync(bigquery_warehouse, tmp_path / "m.db")
    assert not (tmp_path / "m.db").exists()


def test_projection_sql_for_bigquery_is_partitioned_clustered_and_qualified(bigquery_warehouse):
    statements = [s.sql for s in bigquery_warehouse.statements("publish/full")]
    target = f"CREATE TABLE `contact-events-test`.`{bigquery_warehouse.dataset}`."
    ledger = next(s for s in statements if s.startswith(target + "proj_contact_events\n"))
    assert "PARTITION BY TIMESTAMP_TRUNC(event_timestamp, MONTH)" in ledger
    assert "CLUSTER BY contact_id, event_type" in ledger
    # every table is qualified with project and dataset
    assert "FROM `contact-events-test`.`" in ledger


def test_build_dry_run_prints_sql_and_estimates_without_running(
    tmp_path, bigquery_emulator, monkeypatch
):
    from typer.testing import CliRunner

    from contact_events.builder.cli import app

    monkeypatch.chdir(tmp_path)
    env = {
        "CONTACT_EVENTS_WAREHOUSE": "bigquery",
        "CONTACT_EVENTS_BQ_PROJECT": "contact-events-test",
        "CONTACT_EVENTS_BQ_DATASET": "t_dry_run",
        "CONTACT_EVENTS_BQ_ENDPOINT": bigquery_emulator.rest_url,
        "CONTACT_EVENTS_BQ_STORAGE_ENDPOINT": bigquery_emulator.grpc_endpoint,
    }
    result = CliRunner().invoke(app, ["build", "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    assert "CREATE TABLE `contact-events-test`.`t_dry_run`.proj_contact_events" in (result.output)
    # every source file is staged by one statement, named after the files it reads
    (staging,) = [line for line in result.output.splitlines() if "resolve/stage_sources" in line]
    assert staging.startswith("-- resolve/stage_sources <- ") and (
        "profiles/flat/measurement_events" in staging
    )
    assert "bytes processed" in result.output or "no estimate" in result.output
    wh = BigQueryWarehouse(
        "contact-events-test",
        "t_dry_run",
        endpoint=bigquery_emulator.rest_url,
        timeout=60,
        retry=False,
    )
    assert not wh.table_exists("proj_contact_events")


def test_a_bad_line_in_a_later_file_leaves_every_bigquery_table_as_it_was(
    tmp_path, bigquery_warehouse
):
    """Files stream into `<table>__incoming`; nothing is swapped in until all have loaded."""
    from contact_events.builder.core.errors import LoadError

    wh = bigquery_warehouse
    first = {
        "contacts": [{"contact_id": "c1", "email": "a@x.example"}],
        "messages": [{"message_id": "m1", "contact_id": "c1", "sent_at": "2024-01-01"}],
    }
    load_directory(wh, write_canonicals(tmp_path / "first", first))
    second = write_canonicals(
        tmp_path / "second",
        {
            "contacts": [{"contact_id": "c2"}, {"contact_id": "c3"}],
            "messages": [{"message_id": "m2"}],
        },
    )
    (second / "system_events.jsonl").write_text('{"system_event_id": "s1"}\n{oops\n')
    with pytest.raises(LoadError, match=r"system_events\.jsonl:2"):
        load_directory(wh, second)

    def ids(table: str, column: str) -> list[object]:
        return [r[column] for r in wh.fetch(f"SELECT {column} FROM `{wh.table_id(table)}`")]

    assert ids("contacts", "contact_id") == ["c1"]
    assert ids("messages", "message_id") == ["m1"]
    tables = [t.table_id for t in wh.client.list_tables(f"{wh.project}.{wh.dataset}")]
    assert [t for t in tables if t.endswith("__incoming")] == []


def test_read_batches_returns_the_columns_asked_for_in_that_order(tmp_path, bigquery_warehouse):
    rows = [{"contact_id": f"c{i}", "email": f"p{i}@x.example"} for i in range(3)]
    load_directory(bigquery_warehouse, write_canonicals(tmp_path / "c", {"contacts": rows}))
    batches = list(bigquery_warehouse.read_batches("contacts", columns=["email", "contact_id"]))
    assert bigquery_warehouse.read_paths["contacts"] == "storage"
    assert all(b.schema.names == ["email", "contact_id"] for b in batches)
    got = sorted(r for b in batches for r in zip(*b.to_pydict().values(), strict=True))
    assert got == sorted((r["email"], r["contact_id"]) for r in rows)


def test_a_failing_swap_leaves_every_bigquery_table_as_it_was(tmp_path, bigquery_warehouse):
    """The swap is one transaction: when the INSERT into `messages` fails (its table was
    changed behind our back to an incompatible type), `contacts`, swapped earlier in the
    same transaction, keeps its old rows too."""
    from contact_events.builder.core.errors import WarehouseError

    wh = bigquery_warehouse
    first = {
        "contacts": [{"contact_id": "c1", "email": "a@x.example"}],
        "messages": [{"message_id": "m1", "contact_id": "c1", "sent_at": "2024-01-01"}],
    }
    load_directory(wh, write_canonicals(tmp_path / "first", first))
    wh.execute(
        f"CREATE OR REPLACE TABLE `{wh.table_id('messages')}` AS "
        "SELECT 1 AS message_id, 'c1' AS contact_id"
    )
    second = {
        "contacts": [{"contact_id": "c2"}],
        "messages": [{"message_id": "m2", "contact_id": "c2", "sent_at": "2024-01-02"}],
    }
    with pytest.raises(WarehouseError):
        load_directory(wh, write_canonicals(tmp_path / "second", second))
    rows = wh.fetch(f"SELECT contact_id FROM `{wh.table_id('contacts')}`")
    assert [r["contact_id"] for r in rows] == ["c1"]
    tables = [t.table_id for t in wh.client.list_tables(f"{wh.project}.{wh.dataset}")]
    assert [t for t in tables if t.endswith("__incoming")] == []

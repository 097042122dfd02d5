"""The lorchestra `payload` held as BigQuery holds it: a JSON column (what `load` creates)
or a STRING holding JSON (a dataset made that way; CONTRACT §7 allows both). Each takes
its own SQL (builder/engine/sql.py parses a STRING column first; a JSON column is read as it is)
and both give DuckDB's ledger. `load` into a dataset whose payload is STRING keeps it
STRING; into one whose payload is neither, it stops before writing anything."""

from __future__ import annotations

import json

import pytest
from test_bigquery import MIRROR_TABLES, mirror_rows
from test_lorchestra import TABLES

from conftest import make_settings, write_canonicals
from contact_events.builder.core.errors import WarehouseError
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.build import build
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.profiles import profile_of
from contact_events.builder.stages.sync import sync

from .capture import PRACTICE


def staging_sql(run) -> list[str]:
    return [t.sql for t in run.statements if (t.name or "").startswith("resolve/stage_sources")]


def test_payload_as_json_and_as_string_give_duckdbs_ledger(covered, tmp_path):
    as_json, as_string = covered("lorchestra-json"), covered("lorchestra-string")
    # the JSON column is read as JSON; the STRING one parsed first (the adapter's view);
    # a full and an incremental build stage with the same statement
    full, incremental = staging_sql(as_json)
    assert full == incremental and "PARSE_JSON" not in full
    (parsed,) = staging_sql(as_string)
    assert "PARSE_JSON(" in parsed
    settings = make_settings(tmp_path, profile="lorchestra", practice_emails=[PRACTICE])
    with DuckDBWarehouse(settings.duckdb_path) as duck:
        load_directory(duck, as_json.root / "canonicals", profile=profile_of(settings))
        build(duck, settings)
        sync(duck, tmp_path / "duckdb.db")
    duck_rows = mirror_rows(tmp_path / "duckdb.db")
    json_rows = mirror_rows(as_json.root / "mirror.db")
    string_rows = mirror_rows(as_string.root / "mirror.db")
    for table in MIRROR_TABLES:
        assert duck_rows[table], table
        assert json_rows[table] == duck_rows[table], f"{table}: JSON payload differs from DuckDB"
        assert string_rows[table] == duck_rows[table], f"{table}: STRING payload differs"
    # payload values keep their JSON types (an amount stays a number, not its text)
    amounts = [
        json.loads(row[8]).get("amount_due")
        for row in string_rows["contact_events"]
        if row[2] == "invoice"
    ]
    assert any(isinstance(a, int) for a in amounts)
    assert not any(isinstance(a, str) for a in amounts)


def test_load_stops_before_writing_when_payload_is_neither_json_nor_string(
    tmp_path, bigquery_warehouse
):
    from google.cloud import bigquery

    wh = bigquery_warehouse
    settings = make_settings(tmp_path, profile="lorchestra")
    profile = profile_of(settings)
    columns = {**profile.tables["canonical_objects"], "payload": "INT64"}
    wh.client.create_table(
        bigquery.Table(
            wh.table_id("canonical_objects"),
            schema=[bigquery.SchemaField(c, t) for c, t in columns.items()],
        )
    )
    canonicals = write_canonicals(tmp_path / "c", TABLES)
    with pytest.raises(WarehouseError) as error:
        load_directory(wh, canonicals, profile=profile)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("canonical_objects.payload is INT64 in contact-events-test.")
    assert "make the column JSON or STRING" in message
    # nothing was written: no staging table, no other canonical table, the table as it was
    assert wh.tables() == ["canonical_objects"]
    assert wh.column_types("canonical_objects")["payload"] == "INT64"

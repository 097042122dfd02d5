"""The lorchestra profile on BigQuery (official client, local emulator) gives the same
mirror as on DuckDB: JSON payload reads, FORMAT_TIMESTAMP, the billing chains."""

from __future__ import annotations

from test_bigquery import MIRROR_TABLES, build_both, mirror_rows
from test_lorchestra import TABLES

from conftest import PRACTICE, write_canonicals


def test_lorchestra_demo_data_gives_identical_mirrors_on_duckdb_and_bigquery(
    tmp_path, bigquery_warehouse
):
    """The lorchestra demo practice carries every trap of §7 (broken chains, changed
    customer emails, two schema versions, numbers as strings, ignored kinds ...)."""
    from contact_events.builder.demo.flat import PRACTICE_EMAILS, DemoSize
    from contact_events.builder.demo.lorchestra import write_lorchestra_demo_data

    canonicals = tmp_path / "demo"
    write_lorchestra_demo_data(canonicals, DemoSize(contacts=150, events=3000, seed=5))
    duck_report, bq_report = build_both(
        tmp_path,
        canonicals,
        bigquery_warehouse,
        profile="lorchestra",
        practice_emails=list(PRACTICE_EMAILS),
    )
    duck, bq = mirror_rows(tmp_path / "duckdb.db"), mirror_rows(tmp_path / "bigquery.db")
    for table in MIRROR_TABLES:
        assert len(duck[table]) > 0, table
        assert bq[table] == duck[table], f"{table} differs between DuckDB and BigQuery"
    assert bq_report.rejects_by_reason == duck_report.rejects_by_reason
    assert all(n > 0 for n in bq_report.rejects_by_reason.values()), bq_report.rejects_by_reason
    assert bq_report.inputs == duck_report.inputs
    assert any(not i["used"] for i in bq_report.inputs)  # ignored kinds are counted


def test_lorchestra_gives_identical_mirrors_on_duckdb_and_bigquery(tmp_path, bigquery_warehouse):
    canonicals = write_canonicals(tmp_path / "c", TABLES)
    duck_report, bq_report = build_both(
        tmp_path, canonicals, bigquery_warehouse, profile="lorchestra", practice_emails=[PRACTICE]
    )
    duck, bq = mirror_rows(tmp_path / "duckdb.db"), mirror_rows(tmp_path / "bigquery.db")
    for table in MIRROR_TABLES:
        assert len(duck[table]) > 0, table
        assert bq[table] == duck[table], f"{table} differs between DuckDB and BigQuery"
    assert bq_report.rejects_by_reason == duck_report.rejects_by_reason
    assert bq_report.inputs == duck_report.inputs


def test_a_payload_held_as_json_or_as_string_gives_one_ledger(tmp_path, bigquery_warehouse):
    """CONTRACT §7: the payload may be a BigQuery JSON column or a STRING holding JSON;
    BigQuery's JSON_QUERY on a STRING returns text, so the build parses such a column first
    (builder/engine/sql.py `_parse_json`). Both give the same ledger, numbers kept numbers."""
    from collections import Counter

    from conftest import make_settings
    from contact_events.builder.stages.build import build
    from contact_events.builder.stages.load import arrow_schema, load_directory, read_jsonl
    from contact_events.builder.stages.profiles import profile_of
    from contact_events.builder.stages.sync import sync

    settings = make_settings(tmp_path, profile="lorchestra", practice_emails=[PRACTICE])
    profile = profile_of(settings)
    wh = bigquery_warehouse
    canonicals = write_canonicals(tmp_path / "c", TABLES)
    load_directory(wh, canonicals, profile=profile)
    # The emulator types a table made by CREATE TABLE ... AS (the load's swap) STRING.
    assert wh.json_text_columns(profile.tables) == {"canonical_objects": ["payload"]}
    build(wh, settings)
    sync(wh, tmp_path / "string.db")
    # A table a load job creates keeps its JSON column: the one a real dataset has.
    wh.client.delete_table(wh.table_id("canonical_objects"))
    wh._load_staging(
        "canonical_objects",
        arrow_schema("canonical_objects", profile.tables),
        read_jsonl(canonicals / "canonical_objects.jsonl", "canonical_objects", Counter(),
                   profile.tables),
    )  # fmt: skip
    assert wh.json_text_columns(profile.tables) == {}
    build(wh, settings)
    sync(wh, tmp_path / "json.db")
    as_json, as_string = mirror_rows(tmp_path / "json.db"), mirror_rows(tmp_path / "string.db")
    assert as_string == as_json
    assert any('"amount_due":12500' in row[8] for row in as_json["contact_events"])

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

"""BigQuery's rules the analyzer does not enforce: every covered run keeps them, and each
rule fails the statements that break it."""

from __future__ import annotations

import pytest

from contact_events.builder.core.trace import Job, Traced

from .capture import RUNS
from .lint import lint


@pytest.mark.parametrize("name", list(RUNS))
def test_every_statement_of_a_covered_run_keeps_bigquerys_rules(name, covered):
    run = covered(name)
    findings = lint(run.traced)
    assert not findings, "\n".join(str(f) for f in findings)


def statements(*sql: str, name: str = "publish/full") -> list[Traced]:
    return [Traced("bigquery", s, name=name) for s in sql]


def rules(traced: list[Traced]) -> list[tuple[str, str]]:
    return [(f.rule, f.where) for f in lint(traced)]


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE l PARTITION BY TIMESTAMP_TRUNC(t, MONTH) AS SELECT t FROM s ORDER BY t",
        "CREATE TABLE l CLUSTER BY c AS SELECT c FROM s ORDER BY c",
        "CREATE OR REPLACE TABLE l AS SELECT c FROM s UNION ALL SELECT c FROM r ORDER BY c",
    ],
    ids=["partitioned", "clustered", "plain"],
)
def test_order_by_written_into_a_table_is_found(sql):
    (finding,) = lint(statements(sql))
    assert finding.rule == "order-by-into-table"
    assert finding.where == "queries/publish/full.sql"
    partitioned = "PARTITION" in sql or "CLUSTER" in sql
    assert ("refuses" in finding.message) is partitioned


def test_order_by_inserted_into_a_clustered_table_made_earlier_is_found():
    traced = statements(
        "CREATE TABLE l CLUSTER BY c AS SELECT c FROM s WHERE FALSE",
        "INSERT INTO l SELECT c FROM s ORDER BY c",
    )
    assert rules(traced) == [("order-by-into-table", "queries/publish/full.sql")]
    assert "refuses" in lint(traced)[0].message


def test_order_by_with_limit_or_inside_a_window_is_allowed():
    assert (
        rules(
            statements(
                "CREATE TABLE l AS SELECT c FROM s ORDER BY c LIMIT 10",
                "CREATE TABLE m CLUSTER BY c AS "
                "SELECT c, ROW_NUMBER() OVER (ORDER BY c) AS n FROM s",
            )
        )
        == []
    )


@pytest.mark.parametrize(
    ("partition", "ok"),
    [
        ("DATE(event_timestamp)", False),
        ("event_date", False),
        ("TIMESTAMP_TRUNC(event_timestamp, DAY)", False),
        ("TIMESTAMP_TRUNC(event_timestamp, HOUR)", False),
        ("TIMESTAMP_TRUNC(event_timestamp, MONTH)", True),
        ("TIMESTAMP_TRUNC(event_timestamp, YEAR)", True),
        ("DATE_TRUNC(event_date, MONTH)", True),
        ("DATETIME_TRUNC(event_datetime, YEAR)", True),
        ("RANGE_BUCKET(n, GENERATE_ARRAY(0, 3999, 1))", True),
        ("RANGE_BUCKET(n, GENERATE_ARRAY(0, 100000, 10))", False),
    ],
)
def test_partitioning_that_can_pass_4000_partitions_a_job_is_found(partition, ok):
    found = rules(statements(f"CREATE TABLE l PARTITION BY {partition} AS SELECT * FROM s"))
    assert found == ([] if ok else [("partitions-per-job", "queries/publish/full.sql")])


def test_clustering_by_more_than_4_columns_or_an_expression_is_found():
    found = rules(
        statements(
            "CREATE TABLE l CLUSTER BY a, b, c, d, e AS SELECT * FROM s",
            "CREATE TABLE m CLUSTER BY LOWER(a) AS SELECT * FROM s",
            "CREATE TABLE n CLUSTER BY a, b, c, d AS SELECT * FROM s",
        )
    )
    assert found == [("cluster-columns", "queries/publish/full.sql")] * 2


def test_replacing_a_partitioned_or_clustered_table_without_dropping_it_is_found():
    found = rules(
        statements(
            "CREATE OR REPLACE TABLE l CLUSTER BY c AS SELECT c FROM s",
            "DROP TABLE IF EXISTS m",
            "CREATE OR REPLACE TABLE m CLUSTER BY c AS SELECT c FROM s",
            "CREATE OR REPLACE TABLE n AS SELECT c FROM s",
        )
    )
    assert found == [("replace-partitioned", "queries/publish/full.sql")]


def test_ddl_inside_a_multi_statement_transaction_is_found():
    script = (
        "BEGIN TRANSACTION;\n"
        "CREATE TABLE IF NOT EXISTS t AS SELECT * FROM i WHERE FALSE;\n"
        "CREATE TEMP TABLE scratch AS SELECT 1 AS x;\n"
        "DELETE FROM t WHERE TRUE;\n"
        "INSERT INTO t SELECT * FROM i;\n"
        "COMMIT TRANSACTION;"
    )
    (finding,) = lint(statements(script, name="engine/bigquery/transaction"))
    assert finding.rule == "ddl-in-transaction" and "CREATE t" in finding.message
    # the same DDL before BEGIN is fine
    assert lint(statements(script.replace("BEGIN TRANSACTION;\n", "") + ";")) == []


def test_a_statement_over_bigquerys_size_limits_is_found():
    huge = "SELECT '" + "x" * 1_100_000 + "' AS x"
    many = {f"p{i}": "v" for i in range(10_001)}
    found = lint([Traced("bigquery", huge, name="report/inputs"),
                  Traced("bigquery", "SELECT 1", many, name="resolve/events")])  # fmt: skip
    assert [(f.rule, f.where) for f in found] == [
        ("statement-size", "queries/report/inputs.sql"),
        ("statement-size", "queries/resolve/events.sql"),
    ]


def test_a_table_written_more_than_5_times_in_one_build_is_found():
    writes = [
        Traced("bigquery", "DELETE FROM r WHERE TRUE", name="publish/incremental"),
        Traced("bigquery", "-- load", job=Job("load", "r", columns=(("a", "STRING"),))),
    ] * 3
    found = rules([*writes, *statements("SELECT 1", name="publish/build_meta")])
    assert found == [("table-operations", "the load job of r")]
    # a dry run writes nothing; a new build starts counting again
    dry = statements(*["DELETE FROM r WHERE TRUE"] * 6, name="dry run: publish/incremental")
    assert rules(dry) == []

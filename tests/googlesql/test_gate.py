"""The GoogleSQL gate: every statement the BigQuery adapter sends in each covered run
passes GoogleSQL's own analyzer with BigQuery's settings; the runs between them send
every GoogleSQL file the builder has; and the gate fails the statements BigQuery fails."""

from __future__ import annotations

import re

import pytest

from .analyzer import describe
from .capture import EXAMPLE_SOURCES, REPO, RUNS
from .gate import check

QUERIES = REPO / "queries"
# queries/ folders of SQLite (the mirror, the API, the pages, the jobs store) and of
# DuckDB's own; engine/drop_table: the BigQuery adapter drops a table through the tables
# API instead
NOT_GOOGLESQL = ("api/", "mirror/", "ui/", "jobs/", "engine/duckdb/", "engine/drop_table")


@pytest.mark.parametrize("name", list(RUNS))
def test_every_statement_of_a_covered_run_passes_the_googlesql_analyzer(name, covered, analyzer):
    run = covered(name)
    report = check(run, analyzer)
    assert not report.failures, f"{len(report.failures)} statements of the {run.name} run:\n" + (
        "\n".join(report.failures)
    )
    # a run that sent nothing would pass vacuously: each sends its builds' statements
    assert report.by_file["queries/publish/full.sql"] >= 3
    assert (report.by_file["queries/publish/incremental.sql"] >= 10) is run.incremental
    print(f"\n{run.name}: {report.analyzed} statements analyzed ({run.seconds:.1f}s run)")


def googlesql_files() -> set[str]:
    """Every GoogleSQL file a build on BigQuery may send, as `describe` names them."""
    files = set()
    for path in QUERIES.rglob("*.sql"):
        name = path.relative_to(QUERIES).with_suffix("").as_posix()
        if not name.startswith(NOT_GOOGLESQL):
            files.add(f"queries/{name}.sql")
    return files | {str(p) for p in EXAMPLE_SOURCES.glob("*.sql")}


def test_the_covered_runs_send_every_googlesql_file(covered):
    """A new queries/ file (or profile source) that no covered run sends would escape the
    gate: the runs between them must send each one."""
    sent = set()
    for name in RUNS:
        for traced in covered(name).statements:
            for part in describe(traced.name).removesuffix(" (dry run)").split(" with "):
                sent.update(part.split(", "))
    assert googlesql_files() - sent == set()


# --- the gate bites -------------------------------------------------------------------


@pytest.fixture
def ledger_catalog(analyzer):
    """A catalog holding a lorchestra canonical table (JSON payload) and a ledger."""
    catalog = analyzer.catalog("contact-events-test", "gate_bites")
    catalog.declare(
        "canonical_objects",
        {"idem_key": "STRING", "payload": "JSON", "created_at": "TIMESTAMP"},
    )
    catalog.declare(
        "proj_stage_sources",
        {"source_record_id": "STRING", "session_num": "INT64", "payload": "STRING"},
    )
    return catalog


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "SELECT source_record_id FROM `contact-events-test`.`gate_bites`.proj_stage_sources"
            " WHERE session_num = source_record_id",
            "No matching signature for operator =",
        ),
        ("SELECT NO_SUCH_FUNCTION(payload) FROM proj_stage_sources", "Function not found"),
        (
            "SELECT JSON_VALUE(PARSE_JSON(payload), '$.id') FROM canonical_objects",
            "No matching signature for function PARSE_JSON for argument types: JSON",
        ),
    ],
    ids=["int64-equals-string", "unknown-function", "parse-json-of-a-json-column"],
)
def test_the_gate_fails_what_bigquery_fails(analyzer, ledger_catalog, sql, message):
    (result,) = analyzer.analyze(sql, ledger_catalog)
    assert result.error is not None and message in result.error, result.error


def test_the_gate_names_the_file_and_the_message(analyzer, tmp_path):
    """A failing statement of a run is reported with its queries/ file and the analyzer's
    message; the statements after it in the same script are not analyzed."""
    from contact_events.builder.core.trace import Traced

    from .capture import Run

    run = Run("bites", "gate_bites", tmp_path)
    run.seed = {"proj_stage_sources": {"source_record_id": "STRING", "session_num": "INT64"}}
    run.traced = [
        Traced("bigquery", "SELECT COUNT(*) AS n FROM proj_stage_sources", name="engine/row_count"),
        Traced(
            "bigquery",
            "SELECT 1 FROM proj_stage_sources WHERE session_num = @practice_emails",
            {"practice_emails": "a@x.example"},
            name="resolve/events",
        ),
    ]
    report = check(run, analyzer)
    (failure,) = report.failures
    assert failure.startswith("queries/resolve/events.sql: No matching signature for operator =")
    assert "INT64, STRING" in failure
    assert report.analyzed == 2


def test_tables_a_statement_creates_are_in_the_catalog_with_the_analyzers_types(
    analyzer, ledger_catalog
):
    """A CREATE ... AS SELECT gives its table the analyzer's types (JSON stays JSON), so a
    later statement reading it is checked against them."""
    results = analyzer.analyze(
        "CREATE OR REPLACE TABLE staged AS SELECT payload, created_at FROM canonical_objects;\n"
        "SELECT PARSE_JSON(payload) FROM staged",
        ledger_catalog,
    )
    assert ledger_catalog.columns("staged") == {
        "payload": "TYPE_JSON",
        "created_at": "TYPE_TIMESTAMP",
    }
    assert [r.error is None for r in results] == [True, False]


def test_partitioning_and_clustering_types_bigquery_refuses_fail_the_gate(analyzer, tmp_path):
    """ZetaSQL accepts PARTITION BY a STRING or an ARRAY; BigQuery does not."""
    from contact_events.builder.core.trace import Traced

    from .capture import Run

    run = Run("bites", "gate_bites", tmp_path)
    run.seed = {"events": {"id": "STRING", "labels": "ARRAY<STRING>", "at_": "TIMESTAMP"}}
    run.traced = [
        Traced(
            "bigquery",
            f"CREATE TABLE t{i} PARTITION BY {partition} CLUSTER BY {cluster} "
            "AS SELECT * FROM events",
            name="publish/full",
        )
        for i, (partition, cluster) in enumerate(
            [("id", "id"), ("labels", "TIMESTAMP_TRUNC(at_, MONTH)")]
        )
    ]
    assert check(run, analyzer).failures == [
        "queries/publish/full.sql: PARTITION BY an expression of type STRING",
        "queries/publish/full.sql: PARTITION BY an expression of type ARRAY",
    ]


def test_a_googlesql_file_is_named_as_its_path():
    assert describe("publish/full") == "queries/publish/full.sql"
    assert describe("dry run: resolve/events") == "queries/resolve/events.sql (dry run)"
    assert describe("resolve/stage_sources <- profiles/flat/messages, /x/own.sql") == (
        "queries/resolve/stage_sources.sql with queries/profiles/flat/messages.sql, /x/own.sql"
    )
    assert describe(None) == "a statement of no queries/ file"


def test_json_inserted_into_a_string_column_fails_the_gate(analyzer, tmp_path):
    """What `load` used to send into a dataset whose payload is STRING: its staging table
    (a load job's, JSON payload) inserted into the STRING column. BigQuery refuses it."""
    from contact_events.builder.core.trace import Job, Traced

    from .capture import Run

    run = Run("bites", "gate_bites", tmp_path)
    run.seed = {"canonical_objects": {"idem_key": "STRING", "payload": "STRING"}}
    staged = Job("load", "canonical_objects__incoming", columns=(("idem_key", "STRING"),
                                                                 ("payload", "JSON")))  # fmt: skip
    run.traced = [
        Traced("bigquery", "-- load", job=staged),
        Traced(
            "bigquery",
            "BEGIN TRANSACTION;\nDELETE FROM canonical_objects WHERE TRUE;\n"
            "INSERT INTO canonical_objects SELECT * FROM canonical_objects__incoming;\n"
            "COMMIT TRANSACTION;",
            name="engine/bigquery/transaction <- engine/bigquery/swap",
        ),
    ]
    report = check(run, analyzer)
    (failure,) = report.failures
    assert failure.startswith(
        "queries/engine/bigquery/transaction.sql with queries/engine/bigquery/swap.sql: "
    )
    assert "JSON" in failure and "STRING" in failure
    assert report.analyzed == 3  # BEGIN, DELETE, then the INSERT that fails


DOC = REPO / "docs" / "googlesql.md"


def documented_functions() -> set[str]:
    """The analyzer names in the first column of docs/googlesql.md's "What queries/ may
    use" table (backticked: `NULLIF` or `$equal`), lower-cased."""
    section = DOC.read_text().split("## What queries/ may use", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| GoogleSQL"):
            first = line.split(" | ", 1)[0]
            names.update(n.lower() for n in re.findall(r"`([^`]+)`", first))
    return names


def test_every_function_the_sql_calls_is_listed_in_docs(checked):
    """A function or operator the GoogleSQL files call is one whose DuckDB translation
    could answer otherwise: docs/googlesql.md says, for each, whether the SQL pins it."""
    called = set()
    for name in RUNS:
        called |= set(checked(name).functions)
    assert called, "the runs called no function: the analyzer's names were not read"
    missing = {f for f in called if f.lower() not in documented_functions()}
    assert not missing, f"docs/googlesql.md lists no row for {sorted(missing)}"

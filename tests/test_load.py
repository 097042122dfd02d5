"""`load`: JSONL -> canonical warehouse tables (CONTRACT §1 and the load decisions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CANONICAL_TABLES, write_canonicals
from contact_events.builder.core.errors import LoadError
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.load import load_directory


def write_lines(directory: Path, table: str, lines: list[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{table}.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def table_rows(wh: DuckDBWarehouse, table: str) -> list[dict[str, object]]:
    cols = ", ".join(f'"{c}"' for c in CANONICAL_TABLES[table])
    return wh.fetch(f'SELECT {cols} FROM "{table}" ORDER BY ALL')


def all_tables(wh: DuckDBWarehouse) -> dict[str, list[dict[str, object]]]:
    return {t: table_rows(wh, t) for t in CANONICAL_TABLES}


def all_table_names(wh: DuckDBWarehouse) -> list[str]:
    rows = wh.fetch("SELECT table_name FROM information_schema.tables ORDER BY table_name")
    return [r["table_name"] for r in rows]


@pytest.fixture
def wh(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    yield warehouse
    warehouse.close()


GOOD = {
    "contacts": [
        {"contact_id": "c1", "email": "ann@example.org", "first_name": "Ann"},
        {"contact_id": "c2", "email": "bob@example.org", "first_name": "Bob"},
    ],
    "messages": [{"message_id": "m1", "contact_id": "c1", "sent_at": "2024-03-01"}],
}


def test_tables_have_the_contract_columns_and_types(wh, tmp_path):
    load_directory(wh, write_canonicals(tmp_path / "in", GOOD))
    for table, columns in CANONICAL_TABLES.items():
        described = wh.fetch(f'DESCRIBE "{table}"')
        assert [d["column_name"] for d in described] == list(columns), table
        types = {d["column_name"]: d["column_type"] for d in described}
        for col, kind in columns.items():
            expected = {"STRING": "VARCHAR", "INT64": "BIGINT", "ARRAY<STRING>": "VARCHAR[]"}[kind]
            assert types[col] == expected, (table, col)


def test_unknown_fields_are_ignored_and_reported(wh, tmp_path):
    rows = [
        {"message_id": "m1", "zzz": 1, "extra": "x", "sent_at": "2024-03-01"},
        {"message_id": "m2", "extra": None},
    ]
    report = load_directory(wh, write_canonicals(tmp_path / "in", {"messages": rows}))
    assert report.ignored_fields == {"messages": ["extra", "zzz"]}
    assert report.rows["messages"] == 2
    assert [r["message_id"] for r in table_rows(wh, "messages")] == ["m1", "m2"]
    assert "zzz" not in [d["column_name"] for d in wh.fetch('DESCRIBE "messages"')]


def test_missing_file_is_an_empty_table(wh, tmp_path):
    report = load_directory(wh, write_canonicals(tmp_path / "in", GOOD))
    assert sorted(report.missing_files) == sorted(
        f"{t}.jsonl" for t in CANONICAL_TABLES if t not in GOOD
    )
    for table in CANONICAL_TABLES:
        assert wh.table_exists(table), table
        assert report.rows[table] == len(GOOD.get(table, []))
    assert table_rows(wh, "clinical_sessions") == []


def test_an_empty_file_and_blank_lines(wh, tmp_path):
    directory = tmp_path / "in"
    write_lines(directory, "messages", [])
    write_lines(
        directory, "contacts", ["", '{"contact_id": "c1"}', "   ", '{"contact_id": "c2"}', ""]
    )
    report = load_directory(wh, directory)
    assert report.rows["messages"] == 0
    assert report.rows["contacts"] == 2
    assert "messages.jsonl" not in report.missing_files


def test_load_replaces_tables_it_does_not_append(wh, tmp_path):
    load_directory(wh, write_canonicals(tmp_path / "a", GOOD))
    load_directory(wh, write_canonicals(tmp_path / "b", {"contacts": [{"contact_id": "c9"}]}))
    assert [r["contact_id"] for r in table_rows(wh, "contacts")] == ["c9"]
    assert table_rows(wh, "messages") == []


def test_numbers_in_string_columns_become_text(wh, tmp_path):
    rows = [{"session_id": 42, "contact_id": 7, "idem_key": 1.5, "started_at": "2024-03-01"}]
    sys_rows = [{"system_event_id": 123456789012, "contact_id": 0, "occurred_at": "2024-03-01"}]
    load_directory(
        wh,
        write_canonicals(tmp_path / "in", {"clinical_sessions": rows, "system_events": sys_rows}),
    )
    (s,) = table_rows(wh, "clinical_sessions")
    assert (s["session_id"], s["contact_id"], s["idem_key"]) == ("42", "7", "1.5")
    (y,) = table_rows(wh, "system_events")
    assert (y["system_event_id"], y["contact_id"]) == ("123456789012", "0")


def test_array_columns_accept_arrays_and_json_array_strings(wh, tmp_path):
    rows = [
        {"email_event_id": "e1", "to_emails": ["a@x.org", "b@x.org"], "labels": ["INBOX"]},
        {"email_event_id": "e2", "to_emails": '["c@x.org", "d@x.org"]', "labels": "[]"},
        {"email_event_id": "e3", "to_emails": None, "labels": ""},
    ]
    load_directory(wh, write_canonicals(tmp_path / "in", {"email_events": rows}))
    got = {
        r["email_event_id"]: (r["to_emails"], r["labels"]) for r in table_rows(wh, "email_events")
    }
    assert got == {
        "e1": (["a@x.org", "b@x.org"], ["INBOX"]),
        "e2": (["c@x.org", "d@x.org"], []),
        "e3": (None, None),
    }


@pytest.mark.parametrize(("value", "expected"), [(3, 3), ("3", 3), (None, None), ("", None)])
def test_session_num_integers(wh, tmp_path, value, expected):
    rows = [{"session_id": "s1", "session_num": value}]
    load_directory(wh, write_canonicals(tmp_path / "in", {"clinical_sessions": rows}))
    assert table_rows(wh, "clinical_sessions")[0]["session_num"] == expected


@pytest.mark.parametrize("value", ['"three"', "3.5", '"3.5"', "true", '["3"]', "{}"])
def test_non_integer_session_num_is_a_load_error_naming_file_and_line(wh, tmp_path, value):
    directory = tmp_path / "in"
    path = write_lines(
        directory,
        "clinical_sessions",
        [
            '{"session_id": "s1", "session_num": 1}',
            f'{{"session_id": "s2", "session_num": {value}}}',
        ],
    )
    with pytest.raises(LoadError) as err:
        load_directory(wh, directory)
    assert f"{path}:2" in str(err.value)
    assert "session_num" in str(err.value)


def test_session_num_outside_int64_is_a_load_error_naming_file_and_line(wh, tmp_path):
    directory = tmp_path / "in"
    path = write_lines(
        directory,
        "clinical_sessions",
        [
            '{"session_id": "s1", "session_num": 1}',
            '{"session_id": "s2", "session_num": 9223372036854775808}',
        ],
    )
    with pytest.raises(LoadError) as err:
        load_directory(wh, directory)
    assert f"{path}:2" in str(err.value)


@pytest.mark.parametrize(
    "bad_line",
    ['{"message_id": "m2", ', "not json", '["m2"]', '"just a string"', "{'message_id': 'm2'}"],
)
def test_malformed_line_is_an_error_naming_file_and_line_and_changes_nothing(
    wh, tmp_path, bad_line
):
    load_directory(wh, write_canonicals(tmp_path / "first", GOOD))
    before = all_tables(wh)

    directory = write_canonicals(
        tmp_path / "second",
        {"contacts": [{"contact_id": "c9"}], "clinical_sessions": [{"session_id": "s1"}]},
    )
    path = write_lines(
        directory,
        "messages",
        ['{"message_id": "m1"}', "", bad_line, '{"message_id": "m3"}'],
    )
    with pytest.raises(LoadError) as err:
        load_directory(wh, directory)
    message = str(err.value)
    assert f"{path}:3" in message
    assert "\n" not in message
    # Tables before and after the bad file in load order are all as they were.
    assert all_tables(wh) == before
    assert all_table_names(wh) == sorted(CANONICAL_TABLES)


def test_a_failed_first_load_creates_no_tables(wh, tmp_path):
    directory = write_canonicals(tmp_path / "in", GOOD)
    write_lines(directory, "system_events", ["{"])
    with pytest.raises(LoadError):
        load_directory(wh, directory)
    assert [t for t in CANONICAL_TABLES if wh.table_exists(t)] == []
    assert all_table_names(wh) == []  # no staging table left behind either


def test_the_previous_tables_survive_a_failed_load_across_connections(tmp_path):
    settings_path = tmp_path / "warehouse.duckdb"
    with DuckDBWarehouse(settings_path) as wh:
        load_directory(wh, write_canonicals(tmp_path / "first", GOOD))
    bad = write_canonicals(tmp_path / "second", {"contacts": [{"contact_id": "c9"}]})
    write_lines(bad, "messages", ["{oops"])
    with DuckDBWarehouse(settings_path) as wh, pytest.raises(LoadError):
        load_directory(wh, bad)
    with DuckDBWarehouse(settings_path, read_only=True) as wh:
        assert [r["contact_id"] for r in table_rows(wh, "contacts")] == ["c1", "c2"]
        assert [r["message_id"] for r in table_rows(wh, "messages")] == ["m1"]


def test_missing_directory_is_a_load_error(wh, tmp_path):
    with pytest.raises(LoadError) as err:
        load_directory(wh, tmp_path / "nope")
    assert "nope" in str(err.value)


def test_non_ascii_text_round_trips(wh, tmp_path):
    rows = [{"contact_id": "c1", "first_name": "Zoë", "last_name": "Åström-診療 🙂"}]
    load_directory(wh, write_canonicals(tmp_path / "in", {"contacts": rows}))
    (row,) = table_rows(wh, "contacts")
    assert (row["first_name"], row["last_name"]) == ("Zoë", "Åström-診療 🙂")


def test_report_counts_rows_per_table(wh, tmp_path):
    report = load_directory(wh, write_canonicals(tmp_path / "in", GOOD))
    assert report.rows == {t: len(GOOD.get(t, [])) for t in CANONICAL_TABLES}
    assert json.dumps(report.rows)  # plain ints


def test_a_second_load_on_the_same_connection_after_other_queries(wh, tmp_path):
    """DuckDB refuses to register the incoming batch while a result is half read."""
    load_directory(wh, write_canonicals(tmp_path / "first", GOOD))
    assert wh.table_exists("contacts") and not wh.table_exists("nope")
    load_directory(wh, write_canonicals(tmp_path / "second", {"contacts": [{"contact_id": "c9"}]}))
    assert [r["contact_id"] for r in table_rows(wh, "contacts")] == ["c9"]

"""Every bad byte in a canonical file is one line naming file and line,
through the real command, and nothing is changed; a UTF-8 byte-order mark is accepted."""

from __future__ import annotations

import json

import pytest

from cli_support import one_line_error, run_cli
from conftest import write_canonicals
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.load import load_directory

GOOD = {
    "contacts": [{"contact_id": "c1", "email": "ann@example.org"}],
    "messages": [{"message_id": "m1", "contact_id": "c1", "sent_at": "2024-03-01"}],
}
OK_LINE = b'{"message_id": "m0", "contact_id": "c1", "sent_at": "2024-03-01"}\n'

BAD_LINES = {
    "invalid UTF-8": (b'{"message_id": "m\xff\xfe"}\n', "not UTF-8 (byte 0xff"),
    "latin-1": ('{"message_id": "caf\u00e9"}\n'.encode("latin-1"), "not UTF-8 (byte 0xe9"),
    "lone surrogate": (b'{"message_id": "m\\ud800"}\n', "lone surrogate"),
    "deep nesting": (b'{"message_id": ' + b"[" * 20_000 + b"]" * 20_000 + b"}\n", "nested"),
    "5,000-digit integer": (b'{"session_num": ' + b"9" * 5000 + b"}\n", "digits"),
    "NaN": (b'{"message_id": "m2", "channel": NaN}\n', "NaN is not JSON"),
    "Infinity": (b'{"message_id": "m2", "channel": Infinity}\n', "Infinity is not JSON"),
    "duplicate keys": (b'{"message_id": "m2", "message_id": "m3"}\n', "appears twice"),
    "truncated": (b'{"message_id": "m2"\n', "not valid JSON"),
}


def tables_of(path) -> dict:
    with DuckDBWarehouse(path, read_only=True) as wh:
        names = [r["table_name"] for r in wh.fetch(
            "SELECT table_name FROM information_schema.tables ORDER BY 1")]  # fmt: skip
        return {n: sorted(map(repr, wh.fetch(f'FROM "{n}"'))) for n in names}


@pytest.fixture
def loaded(tmp_path):
    env = {
        "CONTACT_EVENTS_DUCKDB_PATH": str(tmp_path / "wh.duckdb"),
        "CONTACT_EVENTS_MIRROR_PATH": str(tmp_path / "m.db"),
    }
    result = run_cli(["load", str(write_canonicals(tmp_path / "good", GOOD))], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return env, tables_of(tmp_path / "wh.duckdb")


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_every_bad_byte_is_one_line_naming_file_and_line_and_changes_nothing(
    tmp_path, loaded, case
):
    env, before = loaded
    bad, expected = BAD_LINES[case]
    folder = write_canonicals(tmp_path / "bad", {"contacts": [{"contact_id": "z9"}]})
    (folder / "messages.jsonl").write_bytes(OK_LINE * 3 + bad + OK_LINE)
    line = one_line_error(run_cli(["load", str(folder)], env, tmp_path))
    assert "messages.jsonl:4: " in line, line
    assert expected in line, line
    assert "Traceback" not in line
    assert tables_of(tmp_path / "wh.duckdb") == before


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    folder = write_canonicals(tmp_path / "bom", GOOD)
    contacts = folder / "contacts.jsonl"
    contacts.write_bytes(b"\xef\xbb\xbf" + contacts.read_bytes())
    with DuckDBWarehouse(tmp_path / "wh.duckdb") as wh:
        report = load_directory(wh, folder)
        assert report.rows["contacts"] == 1
        assert report.ignored_fields == {}  # no "\ufeffcontact_id" field
        assert wh.fetch("SELECT contact_id FROM contacts") == [{"contact_id": "c1"}]


def test_a_long_number_inside_a_string_and_an_escaped_emoji_are_fine(tmp_path):
    folder = tmp_path / "ok"
    folder.mkdir()
    (folder / "messages.jsonl").write_text(
        json.dumps({"message_id": "9" * 5000, "body_preview": "hi \U0001f600"}) + "\n",
        encoding="utf-8",
    )
    with DuckDBWarehouse(tmp_path / "wh.duckdb") as wh:
        load_directory(wh, folder)
        (row,) = wh.fetch("SELECT message_id, body_preview FROM messages")
    assert row == {"message_id": "9" * 5000, "body_preview": "hi \U0001f600"}

"""The changes docs/architecture.md counts, made here the way a contributor makes them, to
show they take the files it says: a new source of a built-in profile is one file; a new
warehouse engine is one adapter module (plus its own SQL) and nothing else names it."""

from __future__ import annotations

import shutil
import sqlite3
import textwrap
from pathlib import Path

import pytest
from test_api_support import TestClient, auth, make_app

from conftest import PRACTICE, make_settings, write_canonicals
from contact_events.builder.core.config import Settings
from contact_events.builder.engine import (
    adapter,
    adapter_names,
    adapters,
    check_settings,
    open_warehouse,
)
from contact_events.builder.pipeline import rebuild
from contact_events.builder.stages import profiles
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.profiles import profile_of
from contact_events.builder.validate.api import validate

pytest_plugins = ["test_api_support"]

CALLS = """\
-- contact-events: source
-- source_system: practice.calls
-- event_type: call
-- table: calls (call_id, client_id, outcome, minutes INT64, started, logged)
--
-- Phone calls: the one file a new source of the flat profile takes.
SELECT
  NULLIF(call_id, '') AS source_record_id,
  NULLIF(outcome, '') AS event_name,
  'phone' AS event_source,
  NULLIF(TRIM(started, ' \\t\\n\\r'), '') AS timestamp_raw,
  NULLIF(TRIM(logged, ' \\t\\n\\r'), '') AS created_at_raw,
  NULLIF(client_id, '') AS source_contact_id,
  CAST(NULL AS STRING) AS source_email,
  TO_JSON_STRING(STRUCT(minutes AS minutes)) AS payload
FROM calls
"""


def test_a_new_source_of_the_flat_profile_is_one_file(tmp_path, monkeypatch):
    folder = tmp_path / "profiles"
    shutil.copytree(profiles.PROFILES_DIR, folder)
    (folder / "flat" / "calls.sql").write_text(CALLS, encoding="utf-8")
    monkeypatch.setattr(profiles, "PROFILES_DIR", folder)

    settings = make_settings(tmp_path)
    canonicals = write_canonicals(
        tmp_path / "in",
        {
            "contacts": [{"contact_id": "c1", "email": "ada@example.org"}],
            "calls": [
                {"call_id": "k1", "client_id": "c1", "outcome": "answered", "minutes": 12,
                 "started": "2024-06-01T10:00:00Z"},
                {"call_id": "k2", "client_id": "nobody", "outcome": "voicemail",
                 "started": "2024-06-02T10:00:00Z"},
                {"call_id": "k3", "client_id": "c1", "started": "not a time"},
            ],
            "messages": [{"message_id": "m1", "contact_id": "c1", "channel": "sms",
                          "direction": "outbound", "sent_at": "2024-06-03T10:00:00Z",
                          "contact_email": PRACTICE}],
        },
    )  # fmt: skip
    with open_warehouse(settings) as wh:  # load writes the table the file declares
        report = load_directory(wh, canonicals, profile=profile_of(settings))
    assert report.rows["calls"] == 3
    done = rebuild(settings, validate=True)  # build, sync, and the validator agrees
    assert done.build.ledger_rows["practice.calls"] == 1
    assert done.build.rejects_by_reason["unknown_contact_id"] == 1
    assert done.build.rejects_by_reason["bad_timestamp"] == 1
    assert "call" in done.build.event_types
    assert done.sync.validation is not None and done.sync.validation["ok"], done.sync.validation
    with sqlite3.connect(settings.mirror_path) as con:
        (payload,) = con.execute(
            "SELECT payload FROM contact_events WHERE source_record_id = 'k1'"
        ).fetchone()
    assert payload == '{"minutes":12}'
    # The API takes the new event type, counts it, and answers with it.
    with TestClient(make_app(settings)) as http:
        calls = http.get("/events?event_type=call", headers=auth()).json()["items"]
        assert [c["source_record_id"] for c in calls] == ["k1"]
        counts = http.get("/contacts/c1/summary", headers=auth()).json()["counts"]
        assert counts["call"] == 1
    # The validator read the calls from the rows they staged (it has no reading of its own).
    with open_warehouse(settings, read_only=True) as wh:
        result = validate(wh, settings, None)
    assert result.ok and "practice.calls from the rows they staged" in result.scope


TOY = '''\
"""A toy engine for the test: DuckDB under another name."""

from pathlib import Path

from pydantic import BaseModel

from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.engine.base import Capabilities


class ToySettings(BaseModel):
    toy_file: Path = Path("toy.duckdb")


class ToyWarehouse(DuckDBWarehouse):
    kind = "toy"
    settings_model = ToySettings
    capabilities = Capabilities(single_process_file=True)

    @classmethod
    def open(cls, settings, *, read_only=False):
        return cls(settings.toy_file, read_only=read_only)

    @classmethod
    def describe(cls, settings):
        return f"Toy {settings.toy_file}"


ADAPTER = ToyWarehouse
'''


def test_a_new_engine_is_one_adapter_module(tmp_path, monkeypatch):
    (tmp_path / "toy.py").write_text(textwrap.dedent(TOY), encoding="utf-8")
    monkeypatch.setattr(adapters, "__path__", [*adapters.__path__, str(tmp_path)])
    adapter.cache_clear()
    try:
        assert "toy" in adapter_names()
        monkeypatch.setenv("CONTACT_EVENTS_TOY_FILE", str(tmp_path / "w.duckdb"))
        settings = Settings(warehouse="toy", mirror_path=tmp_path / "m.db")
        check_settings(settings)  # its setting is known: the adapter carries its model
        with open_warehouse(settings) as wh:
            assert isinstance(wh, adapter("toy")) and wh.path == Path(tmp_path / "w.duckdb")
        monkeypatch.setenv("CONTACT_EVENTS_TOY_FIEL", "x")
        with pytest.raises(Exception, match="did you mean CONTACT_EVENTS_TOY_FILE"):
            check_settings(Settings(warehouse="toy"))
    finally:
        adapter.cache_clear()

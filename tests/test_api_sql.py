"""The canned API queries: readable files with bound parameters, and index-served plans."""

from __future__ import annotations

import re
import sqlite3

import pytest
from test_api_support import PRACTICE_TABLES

from contact_events.builder.core.queries import QUERIES_DIR, read_query

API_FILES = sorted(p.stem for p in (QUERIES_DIR / "api").glob("*.sql"))
# views.sql: what every API connection creates when it opens, before any query runs
API_QUERIES = [name for name in API_FILES if name != "views"]

NULLS = dict.fromkeys(
    ("measure", "lifecycle_stage", "event_type", "event_name", "event_source", "since",
     "until", "after_at", "after_id", "after_ts", "after_system", "after_record_id"),
)  # fmt: skip
PARAMS = {
    **NULLS,
    "as_of": "2024-06-30 12:00:00.000000",
    "cutoff": "2024-06-16 12:00:00.000000",
    "contact_id": "c1",
    "limit": 101,
    "zero_counts": '{"form": 0, "session": 0, "email": 0, "message": 0, "system": 0}',
}
REQUIRED = {
    "gone_quiet_by_type": {"event_type": "form"},
    "events_by_name": {"event_name": "x"},
    "needs_form_items": {"rows": '[["c1", ""], ["c3", "2024-05-01 00:00:00.000000"]]'},
    "gone_quiet_items": {"rows": '[["c3", "2024-05-01 00:00:00.000000"]]'},
}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    from conftest import build_mirror

    settings, _, _ = build_mirror(tmp_path_factory.mktemp("sql"), PRACTICE_TABLES)
    con = sqlite3.connect(f"file:{settings.mirror_path}?mode=ro", uri=True)
    con.executescript(read_query("api/views"))  # as app/pool/db.py does
    yield con
    con.close()


def test_every_route_query_exists():
    assert set(API_QUERIES) >= {
        "needs_form", "gone_quiet", "gone_quiet_by_type", "channel_summary",
        "contact_exists", "timeline", "events", "events_by_name",
        "latest_build", "rows_by_source", "rejects_by_reason",
    }  # fmt: skip


@pytest.mark.parametrize("name", API_FILES)
def test_files_are_readable_and_only_bind_named_parameters(name: str):
    text = read_query(f"api/{name}")
    assert text.startswith("-- "), "a comment header says what the query answers"
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    assert "?" not in code and "{" not in code and "%s" not in code
    header = "\n".join(line for line in text.splitlines() if line.startswith("--"))
    params = set(re.findall(r":([a-z_]+)", code))
    for param in params:
        assert f":{param}" in header, f"{name}: :{param} is not described in the header"
    if not params:
        assert "No parameters." in header


@pytest.mark.parametrize("name", API_QUERIES)
def test_queries_run_and_avoid_full_scans_of_the_ledger(mirror, name: str):
    params = {**PARAMS, **REQUIRED.get(name, {})}
    mirror.execute(read_query(f"api/{name}"), params).fetchall()
    plan = [
        row[3] for row in mirror.execute("EXPLAIN QUERY PLAN " + read_query(f"api/{name}"), params)
    ]
    for step in plan:
        # Every read of contact_events goes through an index (a search, or a covering scan).
        if re.match(r"SCAN (e|latest|contact_events)\b", step):
            assert "INDEX" in step, f"{name}: {step}"

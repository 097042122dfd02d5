"""Incremental build + sync == full rebuild, row for row, after any sequence of changes.

Changes are what re-ingestion produces: new records, new versions of records (later
created_at), rows without created_at or without an id, new contacts and contacts whose
email changes (which re-resolves orphans and ambiguous emails), and records deleted
upstream (every row of an id gone from its table).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_settings, write_canonicals
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.build import build
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.profiles import profile_of
from contact_events.builder.stages.strategy import plan
from contact_events.builder.stages.sync import sync

T0 = datetime(2025, 1, 1, tzinfo=UTC)
EMAILS = ["a@x.example", "b@x.example", "shared@x.example", "nobody@x.example"]
CONTACT_IDS = ["c1", "c2", "c3", "c4", "ghost"]

LEDGER_ORDER = "source_system, source_record_id"
REJECT_ORDER = "source_system, source_record_id, reason, detail"  # SQLite: NULLs first


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


change = st.one_of(
    st.tuples(st.just("contact"), st.sampled_from(CONTACT_IDS[:4]), st.sampled_from(EMAILS)),
    st.tuples(
        st.just("message"),
        st.sampled_from(["m1", "m2", "m3", "m4", None]),
        st.sampled_from([*CONTACT_IDS, None]),
        st.sampled_from([*EMAILS, None]),
        st.sampled_from(["sms", "whatsapp"]),
        st.sampled_from(["ok", "bad", "missing_created"]),
    ),
    st.tuples(
        st.just("form"),
        st.sampled_from(["f1", "f2", "f3"]),
        st.sampled_from(EMAILS),
        st.sampled_from(["phq9", "gad7"]),
    ),
    st.tuples(
        st.just("delete"),
        st.sampled_from(["messages", "measurement_events"]),
        st.sampled_from(["m1", "m2", "m3", "m4", "f1", "f2", "f3"]),
    ),
)


def apply(tables: dict[str, list[dict]], step: int, ops) -> None:
    """Append the rows one ingestion step brings (created_at moves forward each step)."""
    now = T0 + timedelta(days=3 * step)
    for n, op in enumerate(ops):
        created = iso(now + timedelta(minutes=n))
        if op[0] == "delete":
            _, table, rid = op
            id_column = "message_id" if table == "messages" else "measurement_event_id"
            tables[table] = [r for r in tables[table] if r.get(id_column) != rid]
        elif op[0] == "contact":
            _, cid, email = op
            tables["contacts"].append({"contact_id": cid, "email": email, "updated_at": created})
        elif op[0] == "message":
            _, mid, cid, email, channel, kind = op
            tables["messages"].append(
                {
                    "message_id": mid,
                    "contact_id": cid,
                    "contact_email": email,
                    "channel": channel,
                    "direction": "inbound",
                    "sent_at": "not a time" if kind == "bad" else created,
                    "created_at": None if kind == "missing_created" else created,
                }
            )
        else:
            _, fid, email, measure = op
            tables["measurement_events"].append(
                {
                    "measurement_event_id": fid,
                    "subject_id": email,
                    "measure_id": measure,
                    "timestamp": created,
                    "created_at": created,
                }
            )


def _sorted(rows: list[dict]) -> list[tuple]:
    """Rows as tuples in one engine-independent order (NULLs first)."""
    tuples = [tuple(row.values()) for row in rows]
    return sorted(tuples, key=lambda t: [(v is not None, str(v)) for v in t])


def snapshot_warehouse(wh) -> tuple[list, list]:
    ledger = wh.fetch("SELECT * FROM proj_contact_events")
    rejects = wh.fetch("SELECT * FROM proj_contact_events_rejects")
    return _sorted(ledger), _sorted(rejects)


def snapshot_mirror(path: Path) -> dict[str, list]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {
            "contact_events": con.execute(
                f"SELECT * FROM contact_events ORDER BY {LEDGER_ORDER}"
            ).fetchall(),
            "contact_events_rejects": con.execute(
                f"SELECT * FROM contact_events_rejects ORDER BY {REJECT_ORDER}"
            ).fetchall(),
            "contacts": con.execute("SELECT * FROM contacts ORDER BY contact_id").fetchall(),
        }
    finally:
        con.close()


def run_sequence(root: Path, steps, inc_wh, full_wh, *, apply=apply, tables=None, **conf) -> None:
    """Apply each step's changes, load them into both warehouses, build and sync one
    incrementally and the other in full, and compare the two after every step.
    `apply`, `tables` (the canonicals before the first step) and `conf` (settings) default
    to the flat profile's."""
    conf = make_settings(root, **conf)
    profile = profile_of(conf)
    if tables is None:
        tables = {
            "contacts": [{"contact_id": "c1", "email": "a@x.example", "updated_at": iso(T0)}],
            "messages": [],
            "measurement_events": [],
        }
    for i, ops in enumerate(steps):
        apply(tables, i, ops)
        canon = write_canonicals(root / f"step{i}", tables)
        for wh in (inc_wh, full_wh):
            load_directory(wh, canon, profile=profile)
        inc_report = build(inc_wh, conf, plan(inc_wh, "incremental"))
        build(full_wh, conf)
        assert inc_report.mode == ("full" if i == 0 else "incremental")
        assert snapshot_warehouse(inc_wh) == snapshot_warehouse(full_wh), f"step {i}"
        inc_sync = sync(
            inc_wh, root / "inc.db", plan(inc_wh, "incremental", root / "inc.db", built=True)
        )
        sync(full_wh, root / "full.db")
        assert inc_sync.mode == ("full" if i == 0 else "incremental")
        assert snapshot_mirror(root / "inc.db") == snapshot_mirror(root / "full.db"), f"step {i}"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.lists(change, min_size=1, max_size=6), min_size=2, max_size=4))
def test_incremental_equals_full_on_duckdb(tmp_path_factory, steps):
    root = tmp_path_factory.mktemp("inc")
    with (
        DuckDBWarehouse(root / "inc.duckdb") as inc_wh,
        DuckDBWarehouse(root / "full.duckdb") as full_wh,
    ):
        run_sequence(root, steps, inc_wh, full_wh)


def test_incremental_upsert_overwrites_a_changed_record(tmp_path):
    """A re-ingested record with a later created_at replaces the ledger row (not skipped)."""
    steps = [
        [("message", "m1", "c1", None, "sms", "ok")],
        [("message", "m1", "c1", None, "whatsapp", "ok")],
    ]
    with (
        DuckDBWarehouse(tmp_path / "inc.duckdb") as inc_wh,
        DuckDBWarehouse(tmp_path / "full.duckdb") as full_wh,
    ):
        run_sequence(tmp_path, steps, inc_wh, full_wh)
        rows = inc_wh.fetch("SELECT event_name FROM proj_contact_events")
    assert rows == [{"event_name": "inbound: whatsapp"}]


def test_new_contact_resolves_earlier_orphans_incrementally(tmp_path):
    steps = [
        [("form", "f1", "b@x.example", "phq9")],  # orphan: no contact has b@
        [("contact", "c2", "b@x.example")],  # now it resolves, though f1 did not change
    ]
    with (
        DuckDBWarehouse(tmp_path / "inc.duckdb") as inc_wh,
        DuckDBWarehouse(tmp_path / "full.duckdb") as full_wh,
    ):
        run_sequence(tmp_path, steps, inc_wh, full_wh)
        rows = inc_wh.fetch("SELECT contact_id FROM proj_contact_events")
    assert rows == [{"contact_id": "c2"}]


def test_records_deleted_upstream_leave_ledger_rejects_and_mirror(tmp_path):
    steps = [
        [
            ("message", "m1", "c1", None, "sms", "ok"),
            ("message", "m2", "c1", None, "sms", "bad"),  # a reject
            ("form", "f1", "a@x.example", "phq9"),
        ],
        [("delete", "messages", "m1"), ("delete", "messages", "m2")],
    ]
    with (
        DuckDBWarehouse(tmp_path / "inc.duckdb") as inc_wh,
        DuckDBWarehouse(tmp_path / "full.duckdb") as full_wh,
    ):
        run_sequence(tmp_path, steps, inc_wh, full_wh)
        ledger = inc_wh.fetch("SELECT source_record_id FROM proj_contact_events")
        rejects = inc_wh.fetch("SELECT source_record_id FROM proj_contact_events_rejects")
    assert ledger == [{"source_record_id": "f1"}] and rejects == []
    mirror = snapshot_mirror(tmp_path / "inc.db")
    assert [r[7] for r in mirror["contact_events"]] == ["f1"]
    assert mirror["contact_events_rejects"] == []


def test_incremental_equals_full_on_bigquery(tmp_path, bigquery_warehouse):
    steps = [
        [
            ("contact", "c2", "shared@x.example"),
            ("contact", "c3", "shared@x.example"),
            ("form", "f1", "shared@x.example", "phq9"),
            ("message", "m1", "ghost", None, "sms", "ok"),
            ("message", None, None, "a@x.example", "sms", "ok"),
        ],
        [
            ("contact", "c3", "nobody@x.example"),  # f1 is no longer ambiguous
            ("message", "m1", "c1", None, "sms", "ok"),  # now a known contact
            ("message", "m2", None, "b@x.example", "sms", "missing_created"),
            ("message", "m3", "c1", None, "sms", "bad"),  # a reject
        ],
        [
            ("delete", "messages", "m1"),  # a ledger row deleted upstream
            ("delete", "messages", "m3"),  # a reject deleted upstream
            ("form", "f2", "a@x.example", "gad7"),
        ],
    ]
    with DuckDBWarehouse(tmp_path / "full.duckdb") as full_wh:
        run_sequence(tmp_path, steps, bigquery_warehouse, full_wh)
    ids = {r["source_record_id"] for r in bigquery_warehouse.fetch(
        f"SELECT source_record_id FROM `{bigquery_warehouse.table_id('proj_contact_events')}`"
    )}  # fmt: skip
    assert "m1" not in ids and "f2" in ids

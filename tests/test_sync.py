"""`sync`: warehouse projection -> SQLite mirror (CONTRACT §4): shape, timestamps,
indexes, ledger_builds history, and that readers never see a half-written mirror."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import contact_events.builder.stages.sync as sync_module
from conftest import CANONICAL_TABLES, build_mirror, make_settings, write_canonicals
from contact_events.builder.core.contract import LEDGER_COLUMNS, REJECT_COLUMNS
from contact_events.builder.core.errors import WarehouseError
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.build import build
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.lock import writer_session
from contact_events.builder.stages.strategy import plan
from contact_events.builder.stages.sync import sync

REPO = Path(__file__).resolve().parent.parent
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")
MIRROR_TABLES = ("contact_events", "contact_events_rejects", "contacts", "ledger_builds")


def tables(n_contacts: int = 5, n_messages: int = 10, tag: str = "v1") -> dict[str, list]:
    contacts = [
        {"contact_id": f"c{i}", "email": f"p{i}@example.org", "lifecycle_stage": "active"}
        for i in range(n_contacts)
    ]
    messages = [
        {
            "message_id": f"{tag}-m{i}",
            "channel": "sms",
            "direction": "outbound",
            "contact_id": f"c{i % n_contacts}" if i % 7 else None,
            "body_preview": f"{tag} {i}",
            "sent_at": f"2024-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00.{i:06d}+01:00",
        }
        for i in range(n_messages)
    ]
    messages.append({"message_id": f"{tag}-bad", "contact_id": "c0", "sent_at": "nope"})
    system = [
        {
            "system_event_id": f"{tag}-y1",
            "contact_email": "P1@example.org",
            "occurred_at": "2024-03-01",
        }
    ]
    return {"contacts": contacts, "messages": messages, "system_events": system}


def snapshot(path: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {
            t: con.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in MIRROR_TABLES
        }
    finally:
        con.close()


def temp_files(mirror: Path) -> list[Path]:
    return sorted(mirror.parent.glob(f".{mirror.name}.tmp-*"))


def rebuild(settings, data: dict[str, list], root: Path):
    canon = write_canonicals(root, data)
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, canon)
        report = build(wh, settings)
        synced = sync(wh, settings.mirror_path)
    return report, synced


@pytest.fixture
def built(tmp_path):
    """A warehouse with a build and a first mirror."""
    settings, report, synced = build_mirror(tmp_path, tables())
    return settings, report, synced


# --- shape --------------------------------------------------------------------------------


def columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in con.execute(f"PRAGMA table_info({table})")]


def test_mirror_has_exactly_the_contract_tables_and_columns(built):
    settings, _, _ = built
    con = sqlite3.connect(f"file:{settings.mirror_path}?mode=ro", uri=True)
    try:
        names = {
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        assert names == set(MIRROR_TABLES)
        assert columns(con, "contact_events") == list(LEDGER_COLUMNS)
        assert columns(con, "contact_events_rejects") == list(REJECT_COLUMNS)
        assert columns(con, "contacts") == list(CANONICAL_TABLES["contacts"])
        assert columns(con, "contacts") == [
            "contact_id", "email", "first_name", "last_name", "lifecycle_stage",
            "client_type_code", "updated_at",
        ]  # fmt: skip
        assert list(LEDGER_COLUMNS) == [
            "contact_id", "contact_email", "event_type", "event_name", "event_source",
            "event_timestamp", "source_system", "source_record_id", "payload",
        ]  # fmt: skip
        assert {
            "build_id", "built_at", "synced_at", "warehouse", "ledger_rows", "rejects_rows",
            "contacts_rows", "rejects_by_reason",
        } <= set(columns(con, "ledger_builds"))  # fmt: skip
        assert con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "off"
    finally:
        con.close()


def test_mirror_rows_are_the_warehouse_rows(built):
    settings, report, synced = built
    with DuckDBWarehouse(settings.duckdb_path, read_only=True) as wh:
        counts = {
            t: wh.fetch(f"SELECT COUNT(*) AS n FROM {t}")[0]["n"]
            for t in ("proj_contact_events", "proj_contact_events_rejects", "proj_contacts")
        }
    snap = snapshot(settings.mirror_path)
    assert len(snap["contact_events"]) == counts["proj_contact_events"] == report.total_rows == 11
    assert len(snap["contact_events_rejects"]) == counts["proj_contact_events_rejects"] == 3
    assert len(snap["contacts"]) == counts["proj_contacts"] == 5
    assert synced.rows == {"contact_events": 11, "contact_events_rejects": 3, "contacts": 5}


def test_event_timestamps_are_utc_text_that_sqlite_datetime_compares(built):
    settings, _, _ = built
    con = sqlite3.connect(f"file:{settings.mirror_path}?mode=ro", uri=True)
    try:
        stamps = [r[0] for r in con.execute("SELECT event_timestamp FROM contact_events")]
        assert stamps and all(TS_RE.match(s) for s in stamps), stamps
        ts = dict(con.execute("SELECT source_record_id, event_timestamp FROM contact_events"))
        assert ts["v1-m3"] == "2024-03-04 02:03:00.000003"  # 03:03:00.000003+01:00
        assert ts["v1-y1"] == "2024-03-01 00:00:00.000000"
        # the comparison analysts write
        n = con.execute(
            "SELECT COUNT(*) FROM contact_events "
            "WHERE event_timestamp < DATETIME('2024-03-04 02:03:00')"
        ).fetchone()[0]
        assert n == sum(1 for s in stamps if s < "2024-03-04 02:03:00")
        assert con.execute(
            "SELECT COUNT(*) FROM contact_events WHERE julianday(event_timestamp) IS NULL"
        ).fetchone() == (0,)
        for col in ("built_at", "synced_at"):
            (value,) = con.execute(f"SELECT {col} FROM ledger_builds").fetchone()
            assert TS_RE.match(value), (col, value)
    finally:
        con.close()


def index_columns(con: sqlite3.Connection, table: str) -> list[tuple[bool, list[str]]]:
    out = []
    for _, name, unique, *_ in con.execute(f"PRAGMA index_list({table})"):
        cols = [r[2] for r in con.execute(f"PRAGMA index_info({name})")]
        out.append((bool(unique), cols))
    return out


def test_indexes_exist(built):
    settings, _, _ = built
    con = sqlite3.connect(f"file:{settings.mirror_path}?mode=ro", uri=True)
    try:
        ledger = index_columns(con, "contact_events")
        assert (True, ["source_system", "source_record_id"]) in ledger
        assert any(cols[:2] == ["contact_id", "event_timestamp"] for _, cols in ledger)
        assert any(cols[:2] == ["contact_id", "event_type"] for _, cols in ledger)
        assert any(cols[0] == "event_timestamp" for _, cols in ledger)
        assert (True, ["contact_id"]) in index_columns(con, "contacts")
        plan = " ".join(
            str(r[-1])
            for r in con.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM contact_events WHERE contact_id = 'c1' "
                "ORDER BY event_timestamp DESC"
            )
        )
        assert "INDEX" in plan and "TEMP B-TREE" not in plan, plan
    finally:
        con.close()


# --- ledger_builds ------------------------------------------------------------------------


def test_ledger_builds_one_row_per_sync_with_history_carried_over(built, tmp_path):
    settings, first_report, _ = built
    first = snapshot(settings.mirror_path)["ledger_builds"]
    assert len(first) == 1

    second_report, _ = rebuild(settings, tables(n_messages=20, tag="v2"), tmp_path / "v2")
    with DuckDBWarehouse(settings.duckdb_path) as wh:  # a sync without a new build
        sync(wh, settings.mirror_path)

    con = sqlite3.connect(f"file:{settings.mirror_path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in con.execute("SELECT * FROM ledger_builds ORDER BY rowid")]
        raw = [tuple(r) for r in con.execute("SELECT * FROM ledger_builds ORDER BY rowid")]
    finally:
        con.close()
    assert len(rows) == 3
    assert raw[0] == first[0]  # history copied unchanged
    assert [r["build_id"] for r in rows] == [
        first_report.build_id,
        second_report.build_id,
        second_report.build_id,
    ]
    assert rows[0]["synced_at"] <= rows[1]["synced_at"] <= rows[2]["synced_at"]
    for row, report in ((rows[0], first_report), (rows[1], second_report)):
        assert row["warehouse"] == "duckdb"
        assert row["ledger_rows"] == report.total_rows
        assert json.loads(row["rejects_by_reason"]) == report.rejects_by_reason
        assert row["error_rejects"] == report.error_rejects
    assert rows[1]["ledger_rows"] == 21
    assert rows[1]["rejects_rows"] == 4  # 1 bad_timestamp + 3 orphans (m0, m7, m14)
    assert rows[1]["contacts_rows"] == 5


OLD_LEDGER_BUILDS = """
CREATE TABLE ledger_builds (
  build_id TEXT NOT NULL, built_at TEXT NOT NULL, synced_at TEXT NOT NULL,
  warehouse TEXT NOT NULL, ledger_rows INTEGER NOT NULL, rejects_rows INTEGER NOT NULL,
  contacts_rows INTEGER NOT NULL, error_rejects INTEGER NOT NULL,
  rejects_by_reason TEXT NOT NULL, rows_by_source TEXT NOT NULL,
  duplicates_by_source TEXT NOT NULL, build_seconds REAL, sync_seconds REAL, validation TEXT
);
INSERT INTO ledger_builds VALUES (
  'b-old', '2024-01-01 00:00:00.000000', '2024-01-01 00:01:00.000000', 'duckdb', 7, 1, 3, 1,
  '{"bad_timestamp": 1}', '{"canonical.messages": 7}', '{"canonical.messages": 0}',
  1.5, 0.5, NULL
);
"""


def test_history_of_a_mirror_written_by_the_first_release_is_carried_over(tmp_path):
    """ledger_builds as the first release wrote it (its columns are the contract's). A newer
    sync must keep that history, whatever columns it has added since."""
    settings = make_settings(tmp_path)
    mirror = Path(settings.mirror_path)
    mirror.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(mirror)
    con.executescript(OLD_LEDGER_BUILDS)
    con.close()
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, write_canonicals(tmp_path / "in", tables()))
        report = build(wh, settings)
        sync(wh, mirror)
    con = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in con.execute("SELECT * FROM ledger_builds ORDER BY rowid")]
    finally:
        con.close()
    assert [r["build_id"] for r in rows] == ["b-old", report.build_id]
    assert {k: rows[0][k] for k in ("built_at", "synced_at", "warehouse", "ledger_rows")} == {
        "built_at": "2024-01-01 00:00:00.000000",
        "synced_at": "2024-01-01 00:01:00.000000",
        "warehouse": "duckdb",
        "ledger_rows": 7,
    }
    assert json.loads(rows[0]["rejects_by_reason"]) == {"bad_timestamp": 1}


def test_sync_before_any_build_is_a_clear_error(tmp_path):
    settings = make_settings(tmp_path)
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, write_canonicals(tmp_path / "in", tables()))
        with pytest.raises(WarehouseError, match="build"):
            sync(wh, settings.mirror_path)
    assert not Path(settings.mirror_path).exists()
    assert temp_files(Path(settings.mirror_path)) == []


# --- atomicity ----------------------------------------------------------------------------


class Boom(RuntimeError):
    pass


class BuildKilledAt(DuckDBWarehouse):
    """A real DuckDB warehouse whose build dies once `step` has run (as a killed process
    would): the steps before it are done, nothing after it is."""

    def __init__(self, path, step: str):
        self.step = step
        super().__init__(path)

    def run(self, statement, params=None):
        super().run(statement, params)
        if self.step != "remember" and statement == self.statements(self.step)[-1]:
            raise Boom(f"killed after {self.step}")  # the step's last statement ran

    def keep_table(self, source, target):
        super().keep_table(source, target)
        if self.step == "remember":  # the staged rows were kept; the build row is not
            raise Boom("killed after remember")


@pytest.mark.parametrize("step", ["publish/full", "remember"])
def test_a_half_published_build_is_never_synced(tmp_path, step):
    """The ledger of the new build is published, its rejects or build row are not: sync
    refuses, the mirror keeps the last good build, and an incremental build runs full."""
    settings, first, _ = build_mirror(tmp_path, tables(n_contacts=5, n_messages=10, tag="a"))
    old = snapshot(settings.mirror_path)
    canon = write_canonicals(tmp_path / "b", tables(n_contacts=5, n_messages=20, tag="b"))
    wh = BuildKilledAt(settings.duckdb_path, step)
    try:
        load_directory(wh, canon)
        with pytest.raises(Boom):
            build(wh, settings)
        with pytest.raises(WarehouseError, match="interrupted"):
            sync(wh, settings.mirror_path)
    finally:
        wh.close()
    assert snapshot(settings.mirror_path) == old
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        again = build(wh, settings, plan(wh, "incremental"))
        assert again.mode == "full" and again.total_rows == 20 + 1
        sync(wh, settings.mirror_path)
    assert len(snapshot(settings.mirror_path)["contact_events"]) == 20 + 1


class FailingWarehouse(DuckDBWarehouse):
    """A real DuckDB warehouse whose table stream breaks after `after` batches."""

    def __init__(self, path, fail_table: str, after: int):
        super().__init__(path, read_only=True)
        self.fail_table, self.after = fail_table, after
        self.batches: dict[str, int] = {}
        self.batch_sizes: set[int] = set()

    def read_batches(self, table, columns=None, batch_rows=50_000):
        self.batch_sizes.add(batch_rows)
        for i, batch in enumerate(super().read_batches(table, columns, batch_rows)):
            if table == self.fail_table and i == self.after:
                raise Boom(f"warehouse connection lost while reading {table}")
            self.batches[table] = self.batches.get(table, 0) + 1
            yield batch


@pytest.mark.parametrize(
    ("fail_table", "after"),
    [("proj_contact_events", 3), ("proj_contact_events_rejects", 1), ("proj_contacts", 2)],
)
def test_a_sync_failing_mid_way_leaves_the_old_mirror_complete(
    tmp_path, monkeypatch, fail_table, after
):
    settings, _, _ = build_mirror(tmp_path, tables(n_contacts=60, n_messages=300, tag="old"))
    old = snapshot(settings.mirror_path)
    listing = sorted(p.name for p in tmp_path.iterdir())

    # A bigger build whose sync will break.
    canon = write_canonicals(tmp_path / "new", tables(n_contacts=60, n_messages=500, tag="new"))
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, canon)
        build(wh, settings)
    monkeypatch.setattr(sync_module, "BATCH_ROWS", 20)
    wh = FailingWarehouse(settings.duckdb_path, fail_table, after)
    try:
        with pytest.raises(Exception) as err:
            sync(wh, settings.mirror_path)
    finally:
        wh.close()
    assert isinstance(err.value, Boom) or isinstance(err.value.__cause__, Boom)
    assert wh.batch_sizes == {20}
    assert wh.batches.get("proj_contact_events", 0) >= 3  # several batches were written

    assert snapshot(settings.mirror_path) == old
    assert len(old["contact_events"]) == 300 + 1
    assert temp_files(Path(settings.mirror_path)) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*listing, "new"])


def test_a_failing_check_keeps_the_old_mirror(built, tmp_path):
    settings, _, _ = built
    old = snapshot(settings.mirror_path)
    canon = write_canonicals(tmp_path / "v2", tables(n_messages=30, tag="v2"))
    seen: list[Path] = []

    def check(path: Path) -> dict[str, object]:
        seen.append(path)
        assert path != Path(settings.mirror_path)
        assert len(snapshot(path)["contact_events"]) == 31  # the finished new file
        raise Boom("validation failed")

    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, canon)
        build(wh, settings)
        with pytest.raises(Boom):
            sync(wh, settings.mirror_path, check=check)
    assert seen
    assert snapshot(settings.mirror_path) == old
    assert temp_files(Path(settings.mirror_path)) == []


def test_a_passing_check_is_recorded(built):
    settings, _, _ = built
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        synced = sync(wh, settings.mirror_path, check=lambda path: {"ok": True, "checked": 11})
    assert synced.validation == {"ok": True, "checked": 11}
    con = sqlite3.connect(f"file:{settings.mirror_path}?mode=ro", uri=True)
    try:
        last = con.execute("SELECT validation FROM ledger_builds ORDER BY rowid DESC").fetchone()[0]
    finally:
        con.close()
    assert json.loads(last) == {"ok": True, "checked": 11}


SLOW_SYNC = r"""
import sys, time
from pathlib import Path
import contact_events.builder.stages.sync as s
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse

s.BATCH_ROWS = 10

class Slow(DuckDBWarehouse):
    def read_batches(self, table, columns=None, batch_rows=50_000):
        for i, batch in enumerate(super().read_batches(table, columns, batch_rows)):
            yield batch
            if i == 2:  # three batches are in the temp file by now
                print("mid-way", flush=True)
                time.sleep(120)

s.sync(Slow(sys.argv[1], read_only=True), Path(sys.argv[2]))
print("finished", flush=True)
"""


def test_a_killed_sync_leaves_the_old_mirror_and_the_next_sync_cleans_up(tmp_path):
    settings, _, _ = build_mirror(tmp_path, tables(n_contacts=20, n_messages=200, tag="old"))
    mirror = Path(settings.mirror_path)
    old = snapshot(mirror)
    canon = write_canonicals(tmp_path / "new", tables(n_contacts=20, n_messages=250, tag="new"))
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, canon)
        new_report = build(wh, settings)

    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_SYNC, str(settings.duckdb_path), str(mirror)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the slow sync never got going"
        line = proc.stdout.readline()
        assert line.strip() == "mid-way", (line, proc.stderr.read() if proc.poll() else "")
        stale = temp_files(mirror)
        assert len(stale) == 1 and str(proc.pid) in stale[0].name
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    # The old mirror is untouched and complete; the half-written file is left behind.
    assert snapshot(mirror) == old
    assert temp_files(mirror) == stale

    # The next writer removes it as it takes the lock (no sync can be running then).
    with writer_session(settings, "sync") as wh:
        assert temp_files(mirror) == []
        sync(wh, mirror)
    assert temp_files(mirror) == []
    new = snapshot(mirror)
    assert len(new["contact_events"]) == 251
    assert [r[0] for r in new["ledger_builds"]][-1] == new_report.build_id
    assert new["ledger_builds"][0] == old["ledger_builds"][0]


def test_open_readers_keep_the_old_file_new_connections_see_the_new_one(built, tmp_path):
    settings, _, _ = built
    mirror = Path(settings.mirror_path)
    old = snapshot(mirror)

    reader = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)
    in_flight = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)
    try:
        assert reader.execute("SELECT COUNT(*) FROM contact_events").fetchone() == (11,)
        in_flight.execute("BEGIN")
        cursor = in_flight.execute("SELECT * FROM contact_events ORDER BY rowid")
        first_row = cursor.fetchone()

        rebuild(settings, tables(n_messages=40, tag="v2"), tmp_path / "v2")

        # A query that started before the swap finishes on the old, complete data.
        assert [first_row, *cursor.fetchall()] == old["contact_events"]
        in_flight.execute("COMMIT")
        # A connection opened before the swap keeps reading the old file, whole.
        assert (
            reader.execute("SELECT * FROM contact_events ORDER BY rowid").fetchall()
            == (old["contact_events"])
        )
        assert reader.execute("SELECT COUNT(*) FROM ledger_builds").fetchone() == (1,)
        # A new connection sees the new mirror.
        fresh = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)
        try:
            assert fresh.execute("SELECT COUNT(*) FROM contact_events").fetchone() == (41,)
            assert fresh.execute("SELECT COUNT(*) FROM ledger_builds").fetchone() == (2,)
            ids = {r[0] for r in fresh.execute("SELECT source_record_id FROM contact_events")}
            assert all(i.startswith("v2-") for i in ids)
        finally:
            fresh.close()
    finally:
        reader.close()
        in_flight.close()


def test_a_killed_writers_leftovers_go_by_lock_ownership_not_by_pid(tmp_path):
    """A temp file named after a live process (a container reuses PIDs: here, ours) and a
    killed load's staging table are both removed when the next writer takes the lock."""
    settings, _, _ = build_mirror(tmp_path, tables(n_contacts=3, n_messages=5))
    mirror = Path(settings.mirror_path)
    live_pid = mirror.with_name(f".{mirror.name}.tmp-{os.getpid()}-deadbeef")
    live_pid.write_bytes(b"half a mirror")
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        wh.execute("CREATE TABLE messages__incoming AS SELECT * FROM messages")
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        sync(wh, mirror)  # a sync outside the lock leaves them alone
    assert temp_files(mirror) == [live_pid]

    with writer_session(settings, "build") as wh:
        assert temp_files(mirror) == []
        assert wh.leftover_staging() == []
        assert not wh.table_exists("messages__incoming")
        assert wh.table_exists("messages")


def test_the_build_row_records_the_mirror_checksum_and_it_verifies(built):
    from contact_events.builder.mirror.store import mirror_checksum, verify_mirror

    settings, _, synced = built
    con = sqlite3.connect(f"file:{settings.mirror_path}?mode=ro", uri=True)
    try:
        (recorded,) = con.execute(
            "SELECT checksum FROM ledger_builds ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
        assert recorded == synced.checksum == mirror_checksum(con)
    finally:
        con.close()
    assert recorded.startswith("sha256-pages:") and len(recorded) == len("sha256-pages:") + 64
    verified = verify_mirror(settings.mirror_path, checksum=True)
    assert verified.ok and verified.quick_check == "ok"
    assert verified.checksum == verified.recorded_checksum == recorded


def test_verify_mirror_finds_an_edited_table_and_a_damaged_page(built, tmp_path):
    from contact_events.builder.mirror.store import verify_mirror

    settings, _, _ = built
    mirror = Path(settings.mirror_path)
    edited = tmp_path / "edited.db"
    edited.write_bytes(mirror.read_bytes())
    con = sqlite3.connect(edited)
    con.execute("UPDATE contact_events SET event_name = 'tampered' WHERE rowid = 1")
    con.commit()
    con.close()
    assert verify_mirror(edited).ok  # quick_check alone cannot see it
    found = verify_mirror(edited, checksum=True)
    assert not found.ok and "checksum" in found.problem

    damaged = tmp_path / "damaged.db"
    data = bytearray(mirror.read_bytes())
    page = int.from_bytes(data[16:18], "big")  # the header's page size
    assert len(data) >= 3 * page
    for offset in range(page, len(data), page):  # scribble over every page's cell area
        data[offset + 8 : offset + 200] = b"\xff" * 192
    damaged.write_bytes(bytes(data))
    found = verify_mirror(damaged)
    assert not found.ok and "damaged" in found.problem, found
    assert not verify_mirror(tmp_path / "none.db").ok


def test_sync_incremental_checks_the_mirror_and_syncs_in_full_when_it_is_damaged(tmp_path):
    """A mirror whose tables no longer match their recorded checksum is not patched: the
    sync writes a whole new file instead, and says so."""
    settings, _, _ = build_mirror(tmp_path, tables(n_contacts=5, n_messages=20, tag="a"))
    mirror = Path(settings.mirror_path)
    con = sqlite3.connect(mirror)
    con.execute("DELETE FROM contact_events WHERE rowid IN (1, 2)")  # damaged by hand
    con.commit()
    con.close()
    canon = write_canonicals(tmp_path / "b", tables(n_contacts=5, n_messages=22, tag="a"))
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, canon)
        build(wh, settings, plan(wh, "incremental"))
        report = sync(wh, mirror, plan(wh, "incremental", mirror, built=True))
    assert report.mode == "full"
    assert report.note and "checksum" in report.note
    with DuckDBWarehouse(settings.duckdb_path, read_only=True) as wh:
        (n,) = wh.fetch("SELECT count(*) AS n FROM proj_contact_events")[0].values()
    assert snapshot(mirror)["contact_events"].__len__() == n


def test_a_sync_checks_free_space_first_and_names_the_path(built, monkeypatch):
    import shutil
    from collections import namedtuple

    settings, _, _ = built
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10, 10))
    before = snapshot(Path(settings.mirror_path))
    with DuckDBWarehouse(settings.duckdb_path) as wh, pytest.raises(Exception) as raised:
        sync(wh, settings.mirror_path)
    message = str(raised.value)
    assert type(raised.value).__name__ == "SyncError"
    assert f"disk full in {Path(settings.mirror_path).parent}" in message
    assert "needed" in message and "10 B free" in message
    assert snapshot(Path(settings.mirror_path)) == before
    assert temp_files(Path(settings.mirror_path)) == []


@pytest.mark.parametrize("incremental", [False, True])
def test_a_syncs_temp_file_is_owner_only_whatever_the_umask(built, monkeypatch, incremental):
    import stat

    settings, _, _ = built
    seen = []
    real_swap = sync_module._swap

    def spy(tmp, mirror):
        seen.append(stat.S_IMODE(tmp.stat().st_mode))
        real_swap(tmp, mirror)

    monkeypatch.setattr(sync_module, "_swap", spy)
    previous = os.umask(0)
    try:
        with DuckDBWarehouse(settings.duckdb_path) as wh:
            asked = "incremental" if incremental else "full"
            if incremental:
                build(wh, settings, plan(wh, asked))
            sync(wh, settings.mirror_path, plan(wh, asked, settings.mirror_path, built=True))
    finally:
        os.umask(previous)
    assert seen == [0o600]
    assert stat.S_IMODE(Path(settings.mirror_path).stat().st_mode) == 0o600


def test_a_disk_that_fills_mid_sync_names_the_folder_and_the_space(built, monkeypatch):
    """SQLite's "database or disk is full" half-way through writing the new file."""
    settings, _, _ = built
    mirror = Path(settings.mirror_path)
    before = snapshot(mirror)

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(sync_module, "_copy", full)
    with DuckDBWarehouse(settings.duckdb_path) as wh, pytest.raises(Exception) as raised:
        sync(wh, mirror)
    assert type(raised.value).__name__ == "SyncError"
    message = str(raised.value)
    assert message.startswith(f"disk full in {mirror.parent} while writing the new mirror")
    assert f"about {mirror.stat().st_size / 1024:,.1f} KiB needed" in message
    assert "free" in message and "mirror kept" in message
    assert snapshot(mirror) == before and temp_files(mirror) == []


def test_a_duckdb_disk_full_error_names_the_folder(tmp_path):
    import duckdb

    from contact_events.builder.engine.adapters.duckdb import duckdb_error

    error = duckdb_error(
        duckdb.IOException("IO Error: Could not write file: No space left on device"),
        tmp_path / "warehouse.duckdb",
    )
    assert type(error).__name__ == "WarehouseError"
    assert str(error).startswith(f"disk full in {tmp_path} while writing the DuckDB warehouse")


def test_a_row_checksum_verifies_where_sqlite_has_no_dbstat(built, tmp_path):
    """The row-by-row checksum (for a SQLite without dbstat) is recorded and verified the
    same way; a damaged row is found by it too."""
    from contact_events.builder.mirror.store import ROWS, mirror_checksum, verify_mirror

    settings, _, _ = built
    copy = tmp_path / "rows.db"
    copy.write_bytes(Path(settings.mirror_path).read_bytes())
    con = sqlite3.connect(copy)
    con.execute("UPDATE ledger_builds SET checksum = ?", (mirror_checksum(con, ROWS),))
    con.commit()
    con.close()
    found = verify_mirror(copy, checksum=True)
    assert found.ok and found.checksum.startswith("sha256-rows:")
    con = sqlite3.connect(copy)
    con.execute("UPDATE contacts SET email = 'x@y.org' WHERE rowid = 1")
    con.commit()
    con.close()
    assert not verify_mirror(copy, checksum=True).ok

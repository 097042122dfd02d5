"""`contact-events sync`: warehouse projection -> SQLite mirror.

Full sync (the default): the mirror is never written in place. Rows stream from the
warehouse as Arrow record batches into `.<mirror>.tmp-<pid>-<id>` beside the mirror
(journal off: the file is thrown away on any failure), indexes are built after the
load, a `ledger_builds` row is added (history carried over from the previous mirror),
an optional check runs on the finished file, and only then `os.replace` swaps it in.
Readers holding the old file keep reading it; new connections see the new one. A
failed or killed sync leaves the previous mirror untouched.

Incremental sync (`incremental=True`, after `build --incremental`): the mirror is
copied beside itself, the changed rows are upserted into the copy inside one
transaction, and the copy is swapped in like a full sync's file — provided the mirror
holds exactly the build the incremental build was applied to; otherwise it falls back
to a full sync. Patching a copy costs one file copy but keeps readers free of lock waits
and of a hot journal should the patch die half-way.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from builder import contract as c
from builder.errors import SyncError, WarehouseError
from builder.mirror import (
    ARROW_TIMESTAMP_FORMAT,
    MirrorFiles,
    connect_read_only,
    mirror_timestamp,
)
from builder.sql import read_query, split_statements
from builder.warehouse import Warehouse

log = logging.getLogger("contact_events.sync")

BATCH_ROWS = 50_000
CONTACT_COLUMNS = tuple(c.CANONICAL_TABLES["contacts"])

# (warehouse table, mirror table, columns)
COPIES = (
    (c.LEDGER_TABLE, c.MIRROR_LEDGER, c.LEDGER_COLUMNS),
    (c.REJECTS_TABLE, c.MIRROR_REJECTS, c.REJECT_COLUMNS),
    (c.CONTACTS_TABLE, c.MIRROR_CONTACTS, CONTACT_COLUMNS),
)
# (warehouse table, temp table in the mirror connection, columns) for an incremental sync
DELTAS = (
    ("proj_stage_delta_ledger", "delta_ledger", c.LEDGER_COLUMNS),
    ("proj_stage_delta_rejects", "delta_rejects", c.REJECT_COLUMNS),
    ("proj_stage_changed", "changed", ("source_system", "source_record_id")),
    (c.CONTACTS_TABLE, "new_contacts", CONTACT_COLUMNS),
)

Check = Callable[[Path], dict[str, object]]
Progress = Callable[[str, int], None]


@dataclass
class SyncReport:
    mirror_path: str
    build_id: str
    mode: str = "full"
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    validation: dict[str, object] | None = None

    @property
    def rows_per_second(self) -> float:
        total = sum(self.rows.values())
        return total / self.seconds if self.seconds else 0.0


def _as_text_timestamps(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_timestamp(column.type):
        if column.type.unit != "us" or column.type.tz not in ("UTC", "+00:00", "Etc/UTC"):
            column = column.cast(pa.timestamp("us", tz="UTC"))
        return pc.strftime(column, format=ARROW_TIMESTAMP_FORMAT)
    return column


def batch_rows(batch: pa.RecordBatch) -> Iterator[tuple[object, ...]]:
    """Rows of a record batch as tuples, timestamps in the mirror's text form."""
    columns = [_as_text_timestamps(col).to_pylist() for col in batch.columns]
    return zip(*columns, strict=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cleanup_stale_temp_files(mirror: Path) -> None:
    for stale in MirrorFiles.at(mirror).temps():
        pid = MirrorFiles.temp_owner(stale)
        if pid is not None and not _pid_alive(pid):
            stale.unlink(missing_ok=True)


def previous_builds(mirror: Path) -> list[dict[str, object]]:
    """ledger_builds rows of the current mirror, if there is a readable one."""
    if not mirror.exists():
        return []
    try:
        con = connect_read_only(mirror)
        con.row_factory = sqlite3.Row
        try:
            rows = con.execute(f"SELECT * FROM {c.MIRROR_BUILDS} ORDER BY rowid").fetchall()
            return [dict(row) for row in rows]
        finally:
            con.close()
    except sqlite3.Error as e:
        log.warning("previous mirror unreadable, build history starts afresh: %s", e)
        return []


def _copy(
    warehouse: Warehouse,
    con: sqlite3.Connection,
    source: str,
    target: str,
    columns: tuple[str, ...],
    progress: Progress | None,
) -> int:
    insert = f"INSERT INTO {target} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    total = 0
    for batch in warehouse.read_batches(source, columns, BATCH_ROWS):
        con.executemany(insert, batch_rows(batch))
        total += batch.num_rows
        if progress:
            progress(target, batch.num_rows)
    return total


def _latest_build(warehouse: Warehouse) -> dict[str, object]:
    if not warehouse.table_exists(c.BUILD_TABLE):
        raise WarehouseError(
            "no finished build in the warehouse (none yet, or the last one failed or was "
            "interrupted); run `contact-events build` first"
        )
    rows = warehouse.fetch_query_file("report/build_latest")
    if not rows:
        raise WarehouseError("the warehouse build table is empty; run `contact-events build`")
    return rows[0]


def _fmt_ts(value: object) -> str:
    return mirror_timestamp(value) if isinstance(value, datetime) else str(value)


def _insert_build_row(
    con: sqlite3.Connection, build: dict[str, object], rows: dict[str, int], seconds: float
) -> None:
    report = json.loads(str(build["report"]))
    errors = sum(n for r, n in report["rejects_by_reason"].items() if r not in c.WARNING_REASONS)
    con.execute(
        read_query("mirror/insert_build"),
        {
            "build_id": str(build["build_id"]),
            "built_at": _fmt_ts(build["built_at"]),
            "synced_at": _fmt_ts(datetime.now(UTC)),
            "warehouse": str(build["warehouse"]),
            "mode": str(build.get("mode") or "full"),
            "ledger_rows": rows[c.MIRROR_LEDGER],
            "rejects_rows": rows[c.MIRROR_REJECTS],
            "contacts_rows": rows[c.MIRROR_CONTACTS],
            "error_rejects": errors,
            "rejects_by_reason": json.dumps(report["rejects_by_reason"]),
            "rows_by_source": json.dumps(report["ledger_rows"]),
            "duplicates_by_source": json.dumps(report["duplicates"]),
            "build_seconds": report.get("seconds"),
            "sync_seconds": round(seconds, 3),
        },
    )


def _carry_over_history(con: sqlite3.Connection, history: list[dict[str, object]]) -> None:
    """Copy earlier ledger_builds rows by column name (older mirrors may lack columns)."""
    if not history:
        return
    known = {row[1] for row in con.execute(f"PRAGMA table_info({c.MIRROR_BUILDS})")}
    columns = [col for col in history[0] if col in known]
    con.executemany(
        f"INSERT INTO {c.MIRROR_BUILDS} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})",
        [tuple(row[col] for col in columns) for row in history],
    )


def sync(
    warehouse: Warehouse,
    mirror_path: Path,
    progress: Progress | None = None,
    check: Check | None = None,
    incremental: bool = False,
) -> SyncReport:
    """Bring the mirror to the warehouse's latest build (see the module docstring)."""
    mirror = Path(mirror_path)
    mirror.parent.mkdir(parents=True, exist_ok=True)
    build = _latest_build(warehouse)
    if incremental:
        history = previous_builds(mirror)
        base = history[-1]["build_id"] if history else None
        if build.get("mode") == "incremental" and base == build.get("previous_build_id"):
            return _patch_mirror(warehouse, mirror, build, progress)
        log.info("mirror does not hold the build this one applies to: full sync")
    return _replace_mirror(warehouse, mirror, build, progress, check)


def _replace_mirror(
    warehouse: Warehouse,
    mirror: Path,
    build: dict[str, object],
    progress: Progress | None,
    check: Check | None,
) -> SyncReport:
    started = time.perf_counter()
    _cleanup_stale_temp_files(mirror)
    report = SyncReport(mirror_path=str(mirror), build_id=str(build["build_id"]))
    tmp = MirrorFiles.at(mirror).new_temp()
    try:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=OFF")
            con.execute("PRAGMA synchronous=OFF")
            con.executescript(read_query("mirror/schema"))
            for source, target, columns in COPIES:
                con.execute("BEGIN")
                report.rows[target] = _copy(warehouse, con, source, target, columns, progress)
                con.execute("COMMIT")
            con.executescript(read_query("mirror/indexes"))
            _carry_over_history(con, previous_builds(mirror))
            _insert_build_row(con, build, report.rows, time.perf_counter() - started)
            con.execute("PRAGMA journal_mode=DELETE")
        finally:
            con.close()
        report.seconds = round(time.perf_counter() - started, 3)  # the check is timed apart
        if check is not None:
            report.validation = check(tmp)
            _record_validation(tmp, report.build_id, report.validation)
        _swap(tmp, mirror)
    except sqlite3.Error as e:
        raise SyncError(f"writing the mirror failed, previous mirror kept: {e}") from e
    finally:
        tmp.unlink(missing_ok=True)
    return report


def _patch_mirror(
    warehouse: Warehouse, mirror: Path, build: dict[str, object], progress: Progress | None
) -> SyncReport:
    started = time.perf_counter()
    _cleanup_stale_temp_files(mirror)
    report = SyncReport(
        mirror_path=str(mirror), build_id=str(build["build_id"]), mode="incremental"
    )
    tmp = MirrorFiles.at(mirror).new_temp()
    try:
        shutil.copyfile(mirror, tmp)
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            for source, temp, columns in DELTAS:
                con.execute(f"CREATE TEMP TABLE {temp} ({', '.join(columns)})")
                report.rows[temp] = _copy(warehouse, con, source, f"temp.{temp}", columns, progress)
            con.execute("BEGIN IMMEDIATE")
            for statement in split_statements(read_query("mirror/patch")):
                con.execute(statement)
            counts = {
                table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in (c.MIRROR_LEDGER, c.MIRROR_REJECTS, c.MIRROR_CONTACTS)
            }
            _insert_build_row(con, build, counts, time.perf_counter() - started)
            con.execute("COMMIT")
        finally:
            con.close()
        _swap(tmp, mirror)
    except sqlite3.Error as e:
        raise SyncError(f"patching the mirror failed, it is unchanged: {e}") from e
    finally:
        tmp.unlink(missing_ok=True)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _swap(tmp: Path, mirror: Path) -> None:
    """Make `tmp` the mirror: durable first, then one atomic rename."""
    _fsync(tmp)
    os.replace(tmp, mirror)
    _fsync(mirror.parent)


def _record_validation(path: Path, build_id: str, validation: dict[str, object]) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute(
            f"UPDATE {c.MIRROR_BUILDS} SET validation = ? WHERE build_id = ? "
            f"AND rowid = (SELECT max(rowid) FROM {c.MIRROR_BUILDS})",
            (json.dumps(validation, sort_keys=True), build_id),
        )
    finally:
        con.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

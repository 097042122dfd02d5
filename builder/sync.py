"""`contact-events sync`: warehouse projection -> a new SQLite file -> atomic swap.

The mirror is never written in place. Rows stream from the warehouse as Arrow record
batches into `.<mirror>.tmp-<pid>-<id>` beside the mirror (journal off: the file is
thrown away on any failure), indexes are built after the load, a `ledger_builds` row
is added (history carried over from the previous mirror), an optional check runs on
the finished file, and only then `os.replace` swaps it in. Readers holding the old
file keep reading it; new connections see the new one. A failed or killed sync leaves
the previous mirror untouched.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from builder import contract as c
from builder.errors import SyncError, WarehouseError
from builder.sql import read_query
from builder.warehouse import Warehouse

log = logging.getLogger("contact_events.sync")

BATCH_ROWS = 50_000
ARROW_TS_FORMAT = "%Y-%m-%d %H:%M:%S"  # Arrow prints %S with microseconds for us units

# (warehouse table, mirror table, columns)
COPIES = (
    (c.LEDGER_TABLE, c.MIRROR_LEDGER, c.LEDGER_COLUMNS),
    (c.REJECTS_TABLE, c.MIRROR_REJECTS, c.REJECT_COLUMNS),
    (c.CONTACTS_TABLE, c.MIRROR_CONTACTS, tuple(c.CANONICAL_TABLES["contacts"])),
)

Check = Callable[[Path], dict[str, object]]


@dataclass
class SyncReport:
    mirror_path: str
    build_id: str
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
        return pc.strftime(column, format=ARROW_TS_FORMAT)
    return column


def batch_rows(batch: pa.RecordBatch) -> Iterator[tuple[object, ...]]:
    """Rows of a record batch as tuples, timestamps in the mirror's text form."""
    columns = [_as_text_timestamps(col).to_pylist() for col in batch.columns]
    return zip(*columns, strict=True)


def _cleanup_stale_temp_files(mirror: Path) -> None:
    for stale in mirror.parent.glob(f".{mirror.name}.tmp-*"):
        pid = stale.name.split(".tmp-", 1)[1].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            stale.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def previous_builds(mirror: Path) -> list[tuple[object, ...]]:
    """ledger_builds rows of the current mirror, if there is a readable one."""
    if not mirror.exists():
        return []
    try:
        con = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)
        try:
            return con.execute(f"SELECT * FROM {c.MIRROR_BUILDS} ORDER BY rowid").fetchall()
        finally:
            con.close()
    except sqlite3.Error as e:
        log.warning("previous mirror unreadable, build history starts afresh: %s", e)
        return []


def _copy_table(
    warehouse: Warehouse,
    con: sqlite3.Connection,
    source: str,
    target: str,
    columns: tuple[str, ...],
    progress: Callable[[str, int], None] | None,
) -> int:
    insert = f"INSERT INTO {target} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    total = 0
    con.execute("BEGIN")
    for batch in warehouse.read_batches(source, columns, BATCH_ROWS):
        con.executemany(insert, batch_rows(batch))
        total += batch.num_rows
        if progress:
            progress(target, batch.num_rows)
    con.execute("COMMIT")
    return total


def _build_row(warehouse: Warehouse) -> dict[str, object]:
    if not warehouse.table_exists(c.BUILD_TABLE):
        raise WarehouseError("no build in the warehouse yet; run `contact-events build` first")
    rows = warehouse.fetch_query_file("build_latest")
    if not rows:
        raise WarehouseError("the warehouse build table is empty; run `contact-events build`")
    return rows[0]


def _fmt_ts(value: object) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC) if value.tzinfo else value
        return value.strftime(c.MIRROR_TIMESTAMP_FORMAT)
    return str(value)


def sync(
    warehouse: Warehouse,
    mirror_path: Path,
    progress: Callable[[str, int], None] | None = None,
    check: Check | None = None,
) -> SyncReport:
    """Copy ledger, rejects and contacts into a new mirror file and swap it in."""
    started = time.perf_counter()
    mirror = Path(mirror_path)
    mirror.parent.mkdir(parents=True, exist_ok=True)
    _cleanup_stale_temp_files(mirror)
    build = _build_row(warehouse)
    report = SyncReport(mirror_path=str(mirror), build_id=str(build["build_id"]))
    tmp = mirror.with_name(f".{mirror.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=OFF")
            con.execute("PRAGMA synchronous=OFF")
            con.executescript(read_query("mirror/schema"))
            for source, target, columns in COPIES:
                report.rows[target] = _copy_table(warehouse, con, source, target, columns, progress)
            con.executescript(read_query("mirror/indexes"))
            build_report = json.loads(str(build["report"]))
            history = previous_builds(mirror)
            if history:
                marks = ", ".join("?" * len(history[0]))
                con.executemany(f"INSERT INTO {c.MIRROR_BUILDS} VALUES ({marks})", history)
            report.seconds = round(time.perf_counter() - started, 3)
            con.execute(
                read_query("mirror/insert_build"),
                {
                    "build_id": report.build_id,
                    "built_at": _fmt_ts(build["built_at"]),
                    "synced_at": datetime.now(UTC).strftime(c.MIRROR_TIMESTAMP_FORMAT),
                    "warehouse": str(build["warehouse"]),
                    "ledger_rows": report.rows[c.MIRROR_LEDGER],
                    "rejects_rows": report.rows[c.MIRROR_REJECTS],
                    "contacts_rows": report.rows[c.MIRROR_CONTACTS],
                    "error_rejects": sum(
                        n
                        for r, n in build_report["rejects_by_reason"].items()
                        if r not in c.WARNING_REASONS
                    ),
                    "rejects_by_reason": json.dumps(build_report["rejects_by_reason"]),
                    "rows_by_source": json.dumps(build_report["ledger_rows"]),
                    "duplicates_by_source": json.dumps(build_report["duplicates"]),
                    "build_seconds": build_report.get("seconds"),
                    "sync_seconds": report.seconds,
                },
            )
            con.execute("PRAGMA journal_mode=DELETE")
        finally:
            con.close()
        if check is not None:
            report.validation = check(tmp)
            _record_validation(tmp, report.build_id, report.validation)
        _fsync(tmp)
        os.replace(tmp, mirror)
        _fsync(mirror.parent)
    except sqlite3.Error as e:
        raise SyncError(f"writing the mirror failed, previous mirror kept: {e}") from e
    finally:
        tmp.unlink(missing_ok=True)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _record_validation(path: Path, build_id: str, validation: dict[str, object]) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute(
            f"UPDATE {c.MIRROR_BUILDS} SET validation = ? WHERE build_id = ?",
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

"""`contact-events sync`: warehouse projection -> SQLite mirror.

Full sync (the default): the mirror is never written in place. Rows stream from the
warehouse as Arrow record batches into `.<mirror>.tmp-<pid>-<id>` beside the mirror
(journal off: the file is thrown away on any failure), indexes are built after the
load, a `ledger_builds` row is added (history carried over from the previous mirror),
an optional check runs on the finished file, and only then `os.replace` swaps it in.
Readers holding the old file keep reading it; new connections see the new one. A
failed or killed sync leaves the previous mirror untouched; its temp file is removed by
the next writer that takes the lock (builder.stages.lock), not by guessing from a PID. The temp
file is created owner-only (builder/core/files.py) and each build row records the checksum
of the tables it describes (builder.mirror.store.mirror_checksum).

Incremental sync (a `Strategy` whose sync is incremental, after an incremental build):
the mirror is copied beside itself, the changed rows are upserted into the copy inside
one transaction, and the copy is swapped in like a full sync's file. The strategy
(builder/stages/strategy.py) patches only a mirror that holds exactly the build the incremental
build was applied to, in this release's layout, and that verifies (`verify_mirror`:
quick_check and its recorded checksum); otherwise it says full, and why. Patching a copy
costs one file copy but keeps readers free of lock waits and of a hot journal should the
patch die half-way.
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

from ..core import contract as c
from ..core.errors import BusyError, SyncError, WarehouseError
from ..core.files import create_private, disk_full, free_bytes, is_disk_full, private_dir
from ..core.trace import TracedSQLite
from ..engine import Warehouse
from ..engine.sql import insert_rows, read_query, sqlite_statements
from ..mirror.build_row import BuildRow
from ..mirror.store import (
    ARROW_TIMESTAMP_FORMAT,
    MirrorFiles,
    mirror_checksum,
    mirror_state,
    mirror_timestamp,
)
from .strategy import FULL, Strategy, last_build

log = logging.getLogger("contact_events.sync")

BATCH_ROWS = 50_000
CONTACT_COLUMNS = c.CONTACT_COLUMNS

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
    checksum: str | None = None
    strategy: dict[str, object] = field(default_factory=dict)
    # why the sync did not do what was asked (the strategy's reason when it fell back)
    note: str | None = None

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


def _copy(
    warehouse: Warehouse,
    db: TracedSQLite,
    source: str,
    target: str,
    columns: tuple[str, ...],
    progress: Progress | None,
) -> int:
    insert = insert_rows(target, columns)
    total = 0
    started = time.perf_counter()
    for batch in warehouse.read_batches(source, columns, BATCH_ROWS):
        db.executemany(insert, batch_rows(batch), count=batch.num_rows)
        total += batch.num_rows
        if progress:
            progress(target, batch.num_rows)
    log.info(
        "copied %s rows of %s into %s: %.2fs", total, source, target, time.perf_counter() - started
    )
    return total


def latest_build(warehouse: Warehouse) -> dict[str, object]:
    """The warehouse's last finished build, or WarehouseError saying to build first."""
    found = last_build(warehouse)
    if found is None:
        raise WarehouseError(
            "no finished build in the warehouse (none yet, or the last one failed or was "
            "interrupted); run `contact-events build` first"
        )
    return found


def _fmt_ts(value: object) -> str:
    return mirror_timestamp(value) if isinstance(value, datetime) else str(value)


def _insert_build_row(
    db: TracedSQLite,
    build: dict[str, object],
    rows: dict[str, int],
    seconds: float,
    checksum: str,
) -> None:
    report = json.loads(str(build["report"]))
    errors = sum(n for r, n in report["rejects_by_reason"].items() if r not in c.WARNING_REASONS)
    row = BuildRow(
        build_id=str(build["build_id"]),
        built_at=_fmt_ts(build["built_at"]),
        synced_at=_fmt_ts(datetime.now(UTC)),
        warehouse=str(build["warehouse"]),
        mode=str(build.get("mode") or "full"),
        ledger_rows=rows[c.MIRROR_LEDGER],
        rejects_rows=rows[c.MIRROR_REJECTS],
        contacts_rows=rows[c.MIRROR_CONTACTS],
        error_rejects=errors,
        rejects_by_reason=report["rejects_by_reason"],
        rows_by_source=report["ledger_rows"],
        duplicates_by_source=report["duplicates"],
        build_seconds=report.get("seconds"),
        sync_seconds=round(seconds, 3),
        validation=None,
        # a warehouse build whose report names no profile is the flat profile's
        profile=report.get("profile") or "flat",
        event_types=tuple(report.get("event_types") or c.EVENT_TYPES),
        strategy=report.get("strategy") or None,
        checksum=checksum,
    )
    db.execute(read_query("mirror/insert_build"), row.to_row(), name="mirror/insert_build")


def _carry_over_history(db: TracedSQLite, history: tuple[BuildRow, ...]) -> None:
    """The build rows of the mirror being replaced, in this release's layout."""
    if history:
        insert = read_query("mirror/insert_build")
        for row in history:
            db.execute(insert, row.to_row(), name="mirror/insert_build")


def sync(
    warehouse: Warehouse,
    mirror_path: Path,
    strategy: Strategy = FULL,
    *,
    progress: Progress | None = None,
    check: Check | None = None,
) -> SyncReport:
    """Bring the mirror to the warehouse's latest build (see the module docstring):
    patched when `strategy.sync` is incremental, else a new file (builder.stages.strategy's
    `plan` decides; FULL by default). A strategy that fell back says why in the report's
    `note`."""
    mirror = Path(mirror_path)
    private_dir(mirror.parent)
    build = latest_build(warehouse)
    if strategy.sync == "incremental":
        report = _patch_mirror(warehouse, mirror, build, progress)
    else:
        report = _replace_mirror(warehouse, mirror, build, progress, check)
    report.strategy = strategy.to_dict()
    if strategy.fell_back:
        report.note = strategy.reason
    return report


def _sqlite_failure(e: sqlite3.Error | OSError, mirror: Path, doing: str) -> Exception:
    """A SQLite or file error of a sync as the builder's error (the mirror is unchanged)."""
    if is_disk_full(e):
        needed = mirror.stat().st_size if mirror.exists() else None
        return SyncError(disk_full(mirror.parent, needed, f"{doing} {mirror}") + "; mirror kept")
    if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
        return BusyError(f"{doing} {mirror}: the file is locked by another process ({e})")
    if doing.startswith("writing"):
        return SyncError(f"writing the mirror failed, previous mirror kept: {e}")
    return SyncError(f"patching the mirror failed, it is unchanged: {e}")


def _check_space(mirror: Path, needed: int | None, doing: str) -> None:
    """Fail before writing when the folder has less room than the file will take (the
    old mirror and the new file live side by side until the swap)."""
    free = free_bytes(mirror.parent)
    if needed and free is not None and free < needed:
        raise SyncError(disk_full(mirror.parent, needed, f"{doing} {mirror}") + "; mirror kept")


def _replace_mirror(
    warehouse: Warehouse,
    mirror: Path,
    build: dict[str, object],
    progress: Progress | None,
    check: Check | None,
) -> SyncReport:
    started = time.perf_counter()
    report = SyncReport(mirror_path=str(mirror), build_id=str(build["build_id"]))
    _check_space(mirror, mirror.stat().st_size if mirror.exists() else None, "writing")
    tmp = MirrorFiles.at(mirror).new_temp()
    try:
        create_private(tmp)
        db = TracedSQLite(sqlite3.connect(tmp, isolation_level=None))
        try:
            db.script(sqlite_statements("mirror/bulk_load"), name="mirror/bulk_load")
            db.script(sqlite_statements("mirror/schema"), name="mirror/schema")
            for source, target, columns in COPIES:
                db.execute("BEGIN")
                report.rows[target] = _copy(warehouse, db, source, target, columns, progress)
                db.execute("COMMIT")
            db.script(sqlite_statements("mirror/indexes"), name="mirror/indexes")
            _carry_over_history(db, mirror_state(mirror).builds)
            checksum_started = time.perf_counter()
            report.checksum = mirror_checksum(db.con)
            log.info("mirror checksum: %.2fs", time.perf_counter() - checksum_started)
            _insert_build_row(
                db, build, report.rows, time.perf_counter() - started, report.checksum
            )
            db.script(sqlite_statements("mirror/finish"), name="mirror/finish")
        finally:
            db.close()
        report.seconds = round(time.perf_counter() - started, 3)  # the check is timed apart
        if check is not None:
            report.validation = check(tmp)
            _record_validation(tmp, report.build_id, report.validation)
        _swap(tmp, mirror)
    except (sqlite3.Error, OSError) as e:
        raise _sqlite_failure(e, mirror, "writing the new mirror beside") from e
    finally:
        tmp.unlink(missing_ok=True)
    return report


def _patch_mirror(
    warehouse: Warehouse, mirror: Path, build: dict[str, object], progress: Progress | None
) -> SyncReport:
    started = time.perf_counter()
    report = SyncReport(
        mirror_path=str(mirror), build_id=str(build["build_id"]), mode="incremental"
    )
    _check_space(mirror, mirror.stat().st_size, "copying")
    tmp = MirrorFiles.at(mirror).new_temp()
    try:
        create_private(tmp)
        shutil.copyfile(mirror, tmp)
        db = TracedSQLite(sqlite3.connect(tmp, isolation_level=None))
        try:
            db.script(sqlite_statements("mirror/delta_tables"), name="mirror/delta_tables")
            for source, temp, columns in DELTAS:
                report.rows[temp] = _copy(warehouse, db, source, f"temp.{temp}", columns, progress)
            db.execute("BEGIN IMMEDIATE")
            db.script(sqlite_statements("mirror/patch"), name="mirror/patch")
            (counts,) = db.execute(read_query("mirror/row_counts"), name="mirror/row_counts")
            db.execute("COMMIT")
            # after the commit: the page checksum reads the file (it is still a private
            # copy: a sync killed before the build row is in never swaps it in)
            tables = (c.MIRROR_LEDGER, c.MIRROR_REJECTS, c.MIRROR_CONTACTS)
            report.checksum = mirror_checksum(db.con)
            _insert_build_row(
                db,
                build,
                dict(zip(tables, counts, strict=True)),
                time.perf_counter() - started,
                report.checksum,
            )
        finally:
            db.close()
        _swap(tmp, mirror)
    except (sqlite3.Error, OSError) as e:
        raise _sqlite_failure(e, mirror, "patching a copy of") from e
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
    db = TracedSQLite(sqlite3.connect(path, isolation_level=None))
    try:
        db.execute(
            read_query("mirror/record_validation"),
            {"validation": json.dumps(validation, sort_keys=True), "build_id": build_id},
            name="mirror/record_validation",
        )
    finally:
        db.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

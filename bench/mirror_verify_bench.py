"""What checking a mirror costs: `PRAGMA quick_check`, `PRAGMA
integrity_check` and the content checksum (`builder.mirror.store.mirror_checksum`) on a mirror of
N ledger rows, written with the mirror's own schema and indexes.

    .venv/bin/python -m bench.mirror_verify_bench --rows 1000000

Rows are synthetic but shaped like the demo's (ids, emails, JSON payloads of ~120 bytes);
one reject per 20 rows, one contact per 20 rows. Each check runs on a cold connection,
twice; the table shows the second (page cache warm, as in service) and the first.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from contact_events.builder.engine.sql import insert_rows, sqlite_statements
from contact_events.builder.mirror.store import (
    PAGES,
    ROWS,
    connect_read_only,
    mirror_checksum,
    verify_mirror,
)


def make_mirror(path: Path, rows: int) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    for s in sqlite_statements("mirror/bulk_load") + sqlite_statements("mirror/schema"):
        con.execute(s)
    con.execute("BEGIN")
    ledger = insert_rows(
        "contact_events",
        (
            "contact_id",
            "contact_email",
            "event_type",
            "event_name",
            "event_source",
            "event_timestamp",
            "source_system",
            "source_record_id",
            "payload",
        ),
    )
    types = ("form", "session", "email", "message", "system")
    con.executemany(
        ledger,
        (
            (
                f"c-{i % (rows // 20 + 1):07d}",
                f"client{i % (rows // 20 + 1)}@example.org",
                types[i % 5],
                "outbound: Appointment reminder for next week",
                "gmail",
                f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} 10:{i % 60:02d}:00.000000",
                f"canonical.{types[i % 5]}s",
                f"r-{i:09d}",
                json.dumps({"subject": "Appointment reminder", "thread_id": f"t{i}", "n": i}),
            )
            for i in range(rows)
        ),
    )
    con.executemany(
        insert_rows(
            "contact_events_rejects",
            ("source_system", "source_record_id", "severity", "reason", "detail"),
        ),
        (
            ("canonical.messages", f"x-{i}", "warning", "orphan", "no contact")
            for i in range(rows // 20)
        ),
    )
    con.executemany(
        insert_rows("contacts", ("contact_id", "email", "first_name", "last_name")),
        ((f"c-{i:07d}", f"client{i}@example.org", "Ann", "Lee") for i in range(rows // 20)),
    )
    con.execute(
        "INSERT INTO ledger_builds (build_id, built_at, synced_at, warehouse, ledger_rows, "
        "rejects_rows, contacts_rows, error_rejects, rejects_by_reason, rows_by_source, "
        "duplicates_by_source) VALUES ('b', '2025-01-01', '2025-01-01', 'duckdb', 0, 0, 0, "
        "0, '{}', '{}', '{}')"
    )
    con.execute("COMMIT")
    for s in sqlite_statements("mirror/indexes"):
        con.execute(s)
    con.close()


def timed(fn) -> tuple[float, object]:  # noqa: ANN001
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def pragma(path: Path, name: str) -> object:
    con = connect_read_only(path)
    try:
        return con.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        con.close()


def checksum(path: Path, algorithm: str) -> str:
    con = connect_read_only(path)
    try:
        return mirror_checksum(con, algorithm)
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, action="append")
    args = parser.parse_args()
    print("| ledger rows | file | check | first | warm |")
    print("|---:|---:|---|---:|---:|")
    for rows in args.rows or [1_000_000]:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.db"
            make_mirror(path, rows)
            size = path.stat().st_size / 2**20
            checks = {
                "PRAGMA quick_check": lambda p=path: pragma(p, "quick_check"),
                "PRAGMA integrity_check": lambda p=path: pragma(p, "integrity_check"),
                "checksum sha256-pages (default)": lambda p=path: checksum(p, PAGES),
                "checksum sha256-rows (no dbstat)": lambda p=path: checksum(p, ROWS),
                "verify_mirror(checksum=True)": lambda p=path: verify_mirror(p, checksum=True).ok,
                "verify_mirror() (quick_check)": lambda p=path: verify_mirror(p).ok,
            }
            for name, fn in checks.items():
                first, _ = timed(fn)
                warm, _ = timed(fn)
                print(f"| {rows:,} | {size:,.0f} MiB | {name} | {first:.2f} s | {warm:.2f} s |")


if __name__ == "__main__":
    main()

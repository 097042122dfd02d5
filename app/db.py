"""Read-only access to the SQLite mirror, Datasette-style.

- Connections are `file:...?mode=ro` URIs: the API can never write the mirror.
- One connection per thread, cached with the mirror file's identity
  (st_dev, st_ino, st_mtime_ns, st_size). `sync` replaces the file with `os.replace`, so
  the path then names a new inode: the next query on any thread sees the change and
  reopens. The identity is taken *before* opening, so a swap racing with an open at worst
  causes one extra reopen, never a stale connection. A connection already open keeps
  reading the old (unlinked) file until its query finishes: never a half-written mirror.
- A request's queries run in one read transaction (`snapshot()`), which also reads the
  latest `ledger_builds` row: the X-Ledger-* headers always name the build the answer
  came from, also when `sync --incremental` patches the mirror in place (SQLite's locks
  then keep every snapshot whole).
- Every query runs under a time limit (`set_progress_handler` aborts it; 504) and a row
  cap (`fetchmany(max_rows)`).
- SQL comes only from `queries/api/<name>.sql`; values are bound as `:name` parameters.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from app.errors import ApiError
from builder.contract import REASONS, SOURCES
from builder.mirror import connect_read_only
from builder.sql import read_query

log = logging.getLogger("contact_events.api")

FileKey = tuple[int, int, int, int]
T = TypeVar("T")

# Progress handler granularity (SQLite VM instructions between deadline checks).
PROGRESS_STEPS = 50_000


class MirrorUnavailable(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(503, "mirror_unavailable", message, headers={"Retry-After": "30"})


class QueryTimeout(ApiError):
    def __init__(self, limit_ms: int) -> None:
        super().__init__(
            504,
            "query_timeout",
            f"query took too long (limit {limit_ms} ms); narrow it with filters, a time "
            "window or a smaller limit",
        )


NO_MIRROR = (
    "the SQLite mirror does not exist yet: run `contact-events run` "
    "(or `build` then `sync`), or POST /rebuild"
)
BAD_MIRROR = "the SQLite mirror cannot be read; rebuild it (`contact-events run` or POST /rebuild)"


@dataclass(frozen=True)
class BuildInfo:
    """The mirror's latest ledger_builds row, JSON text columns parsed."""

    row: dict[str, Any]

    @property
    def build_id(self) -> str:
        return str(self.row["build_id"])

    @property
    def built_at(self) -> str:
        return str(self.row["built_at"])

    @property
    def synced_at(self) -> str:
        return str(self.row["synced_at"])


def _parse_build(row: Mapping[str, Any]) -> BuildInfo:
    parsed = dict(row)
    for column in ("rejects_by_reason", "rows_by_source", "duplicates_by_source", "validation"):
        value = parsed.get(column)
        if isinstance(value, str):
            try:
                parsed[column] = json.loads(value)
            except ValueError:
                parsed[column] = None
    return BuildInfo(parsed)


@dataclass(frozen=True)
class StatusSnapshot:
    """Everything GET /status reports that is fixed for one build of one mirror file."""

    key: tuple[FileKey, str]
    build: BuildInfo
    rows_by_source: dict[str, int]
    rejects_by_reason: dict[str, int]


class MirrorConnection:
    """One thread's read-only connection to one mirror file."""

    def __init__(self, path: Path, key: FileKey, time_limit_ms: int, max_rows: int) -> None:
        self.key = key
        self.closed = False
        self.time_limit_ms = time_limit_ms
        self.max_rows = max_rows
        self.build: BuildInfo | None = None  # of the current snapshot
        self._last: tuple[tuple[tuple[str, Any], ...], BuildInfo] | None = None
        try:
            # Autocommit: snapshot() opens and closes read transactions explicitly. The busy
            # timeout covers the instant an in-place `sync --incremental` commits.
            self.con = connect_read_only(
                path, check_same_thread=False, isolation_level=None, timeout=5.0
            )
        except sqlite3.Error as e:
            log.warning("cannot open the mirror: %s", e)
            raise MirrorUnavailable(BAD_MIRROR) from None
        self.con.row_factory = sqlite3.Row

    def close(self) -> None:
        self.closed = True
        try:
            self.con.close()
        except sqlite3.Error:  # pragma: no cover - closing never matters
            pass

    @contextmanager
    def snapshot(self) -> Iterator[BuildInfo]:
        """One read transaction: every query inside sees the same, whole mirror.

        Yields the mirror's latest build as of that snapshot (also as `self.build`).
        Never await inside: on the event loop thread the connection is shared.
        """
        try:
            self.con.execute("BEGIN")
        except sqlite3.Error as e:
            log.warning("cannot read the mirror: %s", e)
            raise MirrorUnavailable(BAD_MIRROR) from None
        try:
            rows = self.fetch("latest_build", {}, 1)
            if not rows:
                raise MirrorUnavailable(BAD_MIRROR + " (it records no build)")
            raw = tuple(rows[0].items())
            if self._last is None or self._last[0] != raw:
                self._last = (raw, _parse_build(rows[0]))
            build = self.build = self._last[1]
            yield build
        finally:
            self.build = None
            try:
                self.con.execute("COMMIT")
            except sqlite3.Error:  # pragma: no cover - ends a read transaction
                pass

    def fetch(
        self, name: str, params: Mapping[str, Any], max_rows: int | None = None
    ) -> list[dict[str, Any]]:
        """Rows of `queries/api/<name>.sql` as dicts, under the time limit and row cap.

        `max_rows` overrides the cap: list routes pass their page size (already at most
        the configured cap) plus the one probe row that tells whether a next page exists.
        """
        sql = read_query(f"api/{name}")
        cap = self.max_rows if max_rows is None else max_rows
        deadline = time.monotonic() + self.time_limit_ms / 1000

        def over_time() -> int:
            return 1 if time.monotonic() > deadline else 0

        self.con.set_progress_handler(over_time, PROGRESS_STEPS)
        try:
            cursor = self.con.execute(sql, dict(params))
            try:
                rows = cursor.fetchmany(cap)
            finally:
                cursor.close()
        except sqlite3.OperationalError as e:
            if "interrupted" in str(e):
                log.warning("query %s interrupted after %d ms", name, self.time_limit_ms)
                raise QueryTimeout(self.time_limit_ms) from None
            log.warning("query %s failed on the mirror: %s", name, e)
            raise MirrorUnavailable(BAD_MIRROR) from None
        except sqlite3.DatabaseError as e:
            log.warning("query %s failed on the mirror: %s", name, e)
            raise MirrorUnavailable(BAD_MIRROR) from None
        finally:
            self.con.set_progress_handler(None, 0)
        return [dict(row) for row in rows]


class Mirror:
    """The mirror file at `path`; hands each thread a current connection."""

    def __init__(self, path: Path, *, time_limit_ms: int = 5000, max_rows: int = 50000) -> None:
        self.path = Path(path)
        self.time_limit_ms = max(1, int(time_limit_ms))
        self.max_rows = max(1, int(max_rows))
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[MirrorConnection] = set()
        self._status: StatusSnapshot | None = None

    def file_key(self) -> FileKey:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise MirrorUnavailable(NO_MIRROR) from None
        except OSError as e:
            log.warning("cannot stat the mirror: %s", e)
            raise MirrorUnavailable(BAD_MIRROR) from None
        return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)

    def exists(self) -> bool:
        return self.path.is_file()

    def connect(self) -> MirrorConnection:
        """This thread's connection to the current mirror file (reopened after a swap)."""
        key = self.file_key()
        current: MirrorConnection | None = getattr(self._local, "conn", None)
        if current is not None and current.key == key and not current.closed:
            return current
        if current is not None:
            self._forget(current)
            self._local.conn = None
        conn = MirrorConnection(self.path, key, self.time_limit_ms, self.max_rows)
        with self._lock:
            self._open.add(conn)
        self._local.conn = conn
        return conn

    def _forget(self, conn: MirrorConnection) -> None:
        with self._lock:
            self._open.discard(conn)
        conn.close()

    def close_all(self) -> None:
        """At shutdown: close every thread's connection (a thread reopens on next use)."""
        with self._lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            conn.close()

    def read(self, work: Callable[[MirrorConnection], T]) -> tuple[T, BuildInfo]:
        """Run `work` on this thread's connection inside one snapshot: (result, build)."""
        db = self.connect()
        with db.snapshot() as build:
            return work(db), build

    def cached_status(self, db: MirrorConnection) -> StatusSnapshot | None:
        """The status counts of `db`'s current snapshot, if already known (inside read())."""
        snapshot = self._status
        assert db.build is not None
        if snapshot is not None and snapshot.key == (db.key, db.build.build_id):
            return snapshot
        return None

    def status_snapshot(self, db: MirrorConnection) -> StatusSnapshot:
        """Counts for GET /status (inside read(); blocking: run it in a thread)."""
        cached = self.cached_status(db)
        if cached is not None:
            return cached
        assert db.build is not None
        by_source = {system: 0 for system, _ in SOURCES.values()}
        for row in db.fetch("rows_by_source", {}):
            by_source[str(row["source_system"])] = int(row["n"])
        by_reason = {reason: 0 for reason in REASONS}
        for row in db.fetch("rejects_by_reason", {}):
            by_reason[str(row["reason"])] = int(row["n"])
        snapshot = StatusSnapshot((db.key, db.build.build_id), db.build, by_source, by_reason)
        self._status = snapshot
        return snapshot

"""POST /rebuild: `builder.pipeline.rebuild` (build + sync) in a background thread.

The pipeline is imported when a job runs, not when the API starts: serving reads the
mirror only, and the builder (sqlglot, DuckDB, Arrow) is most of an import's time.

Jobs are rows of a small SQLite file beside the mirror (`<mirror>.jobs.db`, SQL in
queries/jobs/), so every API worker process sees the same jobs and they outlive a
restart. Single flight across workers: submitting takes SQLite's write lock
(`BEGIN IMMEDIATE`), and while a job is queued or running it returns that job instead of
starting another. The worker running a job refreshes its heartbeat every second; a live
job whose heartbeat is STALE_SECONDS old belongs to a worker that died and is marked
failed ("interrupted"), so a killed worker blocks rebuilds for seconds, not for good
(a live job stays safe even if its heartbeat is late: the rebuild itself holds the
writers' lock). The last `keep` jobs are kept. A failed job records its error text;
`rebuild` never swaps a mirror it did not finish, so the old mirror keeps being served.

The store is owner-only (builder/core/files.py; the API process runs under umask 077 from
here on, so the rebuilds' files are too) and is recreated when it was deleted while the
API runs.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contact_events.builder.core.config import Settings
from contact_events.builder.core.errors import ContactEventsError, one_line
from contact_events.builder.core.files import (
    ensure_private,
    remove_sqlite_side_files,
    restrict_umask,
)
from contact_events.builder.core.queries import read_query
from contact_events.builder.mirror.store import MirrorFiles

from ..core.timestamps import mirror_to_datetime, now_utc, to_mirror, to_rfc3339

if TYPE_CHECKING:
    from contact_events.builder.pipeline import PipelineReport

log = logging.getLogger("contact_events.api")

Runner = Callable[[Settings], "PipelineReport"]
HEARTBEAT_SECONDS = 1.0
STALE_SECONDS = 10.0  # a live job without a heartbeat for this long is dead


def validated_rebuild(settings: Settings) -> PipelineReport:
    """The job: build + sync, the new mirror validated before it replaces the old one."""
    from contact_events.builder.pipeline import rebuild

    return rebuild(settings, validate=True)


def jobs_path(settings: Settings) -> Path:
    return MirrorFiles.at(settings.mirror_path).jobs_db


def report_of(result: PipelineReport) -> dict[str, Any]:
    build, synced = result.build, result.sync
    return {
        "build_id": build.build_id,
        "warehouse": build.warehouse,
        "mode": synced.mode,
        "ledger_rows": dict(build.ledger_rows),
        "total_rows": build.total_rows,
        "rejects_by_reason": dict(build.rejects_by_reason),
        "error_rejects": build.error_rejects,
        "duplicates": dict(build.duplicates),
        "contacts": build.contacts,
        "mirror_rows": dict(synced.rows),
        "build_seconds": build.seconds,
        "sync_seconds": synced.seconds,
    }


def _snapshot(row: sqlite3.Row) -> dict[str, Any]:
    """A job row as the API answers it (RebuildJob)."""
    duration = row["duration_seconds"]
    started = mirror_to_datetime(row["started_at"]) if row["started_at"] else None
    if duration is None and started is not None:  # running: so far
        duration = round(max((now_utc() - started).total_seconds(), 0.0), 3)
    return {
        "job_id": row["job_id"],
        "state": row["state"],
        "created_at": to_rfc3339(row["created_at"]),
        "started_at": to_rfc3339(row["started_at"]),
        "finished_at": to_rfc3339(row["finished_at"]),
        "duration_seconds": duration,
        "report": json.loads(row["report"]) if row["report"] is not None else None,
        "error": row["error"],
    }


class JobManager:
    def __init__(
        self,
        settings: Settings,
        runner: Runner | None = None,
        keep: int = 50,
        *,
        stale_seconds: float = STALE_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        self._settings = settings
        self._runner: Runner = runner or validated_rebuild
        self._keep = max(1, keep)
        self._stale = stale_seconds
        self._heartbeat = heartbeat_seconds
        self.path = jobs_path(settings)
        self._schema_ready = False
        restrict_umask()

    # --- the store ---------------------------------------------------------------------
    @contextmanager
    def _db(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A short connection; `write` holds SQLite's write lock until it is closed."""
        if not self._schema_ready or not self.path.exists():
            # first use, or the file was deleted under a running API: (re)create it
            if not self.path.exists():
                remove_sqlite_side_files(self.path)  # a deleted store's leftovers
            ensure_private(self.path)
            self._schema_ready = False
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            if not self._schema_ready:
                con.executescript(read_query("jobs/schema"))
                self._schema_ready = True
            if write:
                con.execute("BEGIN IMMEDIATE")
            yield con
            if write:
                con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def _expire_stale(self, con: sqlite3.Connection) -> None:
        now = now_utc()
        stale_before = now - timedelta(seconds=self._stale)
        params = {"now": to_mirror(now), "stale_before": to_mirror(stale_before)}
        con.execute(read_query("jobs/expire"), params)

    # --- the API -----------------------------------------------------------------------
    def submit(self) -> tuple[dict[str, Any], bool]:
        """(the job, whether it was started now). Returns the live job if there is one."""
        with self._db(write=True) as con:
            self._expire_stale(con)
            live = con.execute(read_query("jobs/active")).fetchone()
            if live is not None:
                return _snapshot(live), False
            job_id = uuid.uuid4().hex[:16]
            con.execute(read_query("jobs/insert"), {"job_id": job_id, "now": to_mirror(now_utc())})
            con.execute(read_query("jobs/prune"), {"keep": self._keep})
            row = con.execute(read_query("jobs/get"), {"job_id": job_id}).fetchone()
        thread = threading.Thread(
            target=self._run, args=(job_id,), name=f"rebuild-{job_id}", daemon=True
        )
        thread.start()
        return _snapshot(row), True

    def get(self, job_id: str) -> dict[str, Any] | None:
        return self._read("jobs/get", {"job_id": job_id})

    def active(self) -> dict[str, Any] | None:
        return self._read("jobs/active", {})

    def recent(self, limit: int = 10) -> list[dict[str, Any]]:
        """The newest `limit` jobs, newest first (a live one whose worker died: failed)."""
        params = {"limit": limit}
        with self._db() as con:
            rows = con.execute(read_query("jobs/recent"), params).fetchall()
        if any(r["state"] in ("queued", "running") and self._is_stale(r) for r in rows):
            with self._db(write=True) as con:
                self._expire_stale(con)
                rows = con.execute(read_query("jobs/recent"), params).fetchall()
        return [_snapshot(row) for row in rows]

    def _read(self, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """One job; a live one whose heartbeat stopped is failed first (then read again)."""
        with self._db() as con:
            row = con.execute(read_query(query), params).fetchone()
        if row is not None and row["state"] in ("queued", "running") and self._is_stale(row):
            with self._db(write=True) as con:
                self._expire_stale(con)
                row = con.execute(read_query(query), params).fetchone()
        return _snapshot(row) if row is not None else None

    def _is_stale(self, row: sqlite3.Row) -> bool:
        beat = mirror_to_datetime(row["heartbeat_at"])
        return beat is None or (now_utc() - beat).total_seconds() > self._stale

    # --- the worker --------------------------------------------------------------------
    def _beat(self, job_id: str, stop: threading.Event) -> None:
        while not stop.wait(self._heartbeat):
            try:
                now = to_mirror(now_utc())
                with self._db() as con:
                    con.execute(read_query("jobs/heartbeat"), {"job_id": job_id, "now": now})
            except sqlite3.Error:  # a busy store: the next beat will do
                log.warning("rebuild %s: heartbeat not recorded", job_id)

    def _run(self, job_id: str) -> None:
        started = time.monotonic()
        with self._db() as con:
            con.execute(read_query("jobs/start"), {"job_id": job_id, "now": to_mirror(now_utc())})
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job_id, stop), daemon=True)
        beat.start()
        log.info("rebuild %s started", job_id)
        report: dict[str, Any] | None = None
        error: str | None = "interrupted"
        try:
            report = report_of(self._runner(self._settings))
            error = None
        except ContactEventsError as e:  # expected (busy, bad data, failed validation)
            error = one_line(e)
            log.warning("rebuild %s failed: %s", job_id, error)
        except Exception as e:  # a bug: a job state too, with its traceback in the log
            log.exception("rebuild %s failed", job_id)
            error = one_line(e)
        finally:
            stop.set()
            beat.join()
            state = "failed" if error is not None else "succeeded"
            duration = round(time.monotonic() - started, 3)
            with self._db() as con:
                con.execute(
                    read_query("jobs/finish"),
                    {
                        "job_id": job_id,
                        "state": state,
                        "now": to_mirror(now_utc()),
                        "duration_seconds": duration,
                        "report": json.dumps(report, sort_keys=True) if report else None,
                        "error": error,
                    },
                )
            log.info("rebuild %s %s in %.1fs", job_id, state, duration)

"""POST /rebuild: `builder.pipeline.rebuild` (build + sync) in a background thread.

Single flight: while a job is queued or running, submitting returns that job instead of
starting another. The last `keep` jobs stay in memory for GET /rebuild/{job_id}. A failed
job records its error text; `rebuild` never swaps a mirror it did not finish, so the old
mirror keeps being served.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.timestamps import now_utc, to_mirror, to_rfc3339
from builder.config import Settings
from builder.pipeline import PipelineReport, rebuild

log = logging.getLogger("contact_events.api")

Runner = Callable[[Settings], PipelineReport]
ACTIVE = ("queued", "running")


def _ts(value: datetime | None) -> str | None:
    return to_rfc3339(to_mirror(value)) if value is not None else None


@dataclass
class Job:
    job_id: str
    state: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    started_clock: float | None = None
    duration_seconds: float | None = None
    report: dict[str, Any] | None = None
    error: str | None = None

    def snapshot(self) -> dict[str, Any]:
        duration = self.duration_seconds
        if duration is None and self.started_clock is not None:
            duration = round(time.monotonic() - self.started_clock, 3)
        return {
            "job_id": self.job_id,
            "state": self.state,
            "created_at": _ts(self.created_at),
            "started_at": _ts(self.started_at),
            "finished_at": _ts(self.finished_at),
            "duration_seconds": duration,
            "report": self.report,
            "error": self.error,
        }


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


class JobManager:
    def __init__(self, settings: Settings, runner: Runner | None = None, keep: int = 50) -> None:
        self._settings = settings
        self._runner: Runner = runner or functools.partial(rebuild, validate=True)
        self._keep = max(1, keep)
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._active: Job | None = None

    def submit(self) -> tuple[dict[str, Any], bool]:
        """(the job, whether it was started now). Returns the active job if there is one."""
        with self._lock:
            if self._active is not None and self._active.state in ACTIVE:
                return self._active.snapshot(), False
            job = Job(job_id=uuid.uuid4().hex[:16], state="queued", created_at=now_utc())
            self._jobs[job.job_id] = job
            self._active = job
            # Forget the oldest finished jobs beyond `keep` (the active one is never dropped).
            while len(self._jobs) > self._keep:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest] is job:
                    break
                del self._jobs[oldest]
            snapshot = job.snapshot()
        thread = threading.Thread(
            target=self._run, args=(job,), name=f"rebuild-{job.job_id}", daemon=True
        )
        thread.start()
        return snapshot, True

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return job.snapshot() if job is not None else None

    def active(self) -> dict[str, Any] | None:
        with self._lock:
            if self._active is not None and self._active.state in ACTIVE:
                return self._active.snapshot()
            return None

    def _run(self, job: Job) -> None:
        with self._lock:
            job.state = "running"
            job.started_at = now_utc()
            job.started_clock = time.monotonic()
        log.info("rebuild %s started", job.job_id)
        report: dict[str, Any] | None = None
        error: str | None = "interrupted"
        try:
            report = report_of(self._runner(self._settings))
            error = None
        except Exception as e:  # a failed build is a job state, not a crash
            log.exception("rebuild %s failed", job.job_id)
            error = f"{type(e).__name__}: {e}"
        finally:
            with self._lock:
                job.finished_at = now_utc()
                job.duration_seconds = round(time.monotonic() - (job.started_clock or 0.0), 3)
                job.report = report
                job.error = error
                job.state = "failed" if error is not None else "succeeded"
                if self._active is job:
                    self._active = None
            log.info("rebuild %s %s in %.1fs", job.job_id, job.state, job.duration_seconds)

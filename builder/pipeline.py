"""The daily pipeline and the rebuild job: build -> sync (-> validate) as one call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from builder.build import BuildReport, build
from builder.config import Settings
from builder.errors import PipelineError
from builder.lock import writer_lock
from builder.sync import Check, SyncReport, sync
from builder.warehouse import open_warehouse


@dataclass
class PipelineReport:
    build: BuildReport
    sync: SyncReport
    seconds: float


def rebuild(
    settings: Settings,
    *,
    max_errors: int | None = None,
    check: Check | None = None,
    on_build_step: Callable[[str], None] | None = None,
    on_sync_rows: Callable[[str, int], None] | None = None,
    incremental: bool = False,
    validate: bool = False,
) -> PipelineReport:
    """Full rebuild in the warehouse, then a new mirror. The old mirror stays on failure.

    `max_errors`: fail before syncing when error rejects exceed it.
    `check`: runs on the finished, not yet swapped mirror file; raising aborts the swap.
    `incremental`: MERGE only what changed and patch a copy of the mirror (the check
    then does not run; the weekly full rebuild validates).
    `validate`: the check is the independent validation (builder.validate) of the new
    mirror against the warehouse; a mismatch keeps the old mirror.
    Holds the writers' lock (builder.lock) throughout: BusyError if another writer runs.
    """
    started = time.perf_counter()
    with writer_lock(settings, "rebuild"), open_warehouse(settings) as warehouse:
        if validate:
            from builder.validate import check_mirror

            check = check_mirror(warehouse, settings)
        report = build(warehouse, settings, progress=on_build_step, incremental=incremental)
        if max_errors is not None and report.error_rejects > max_errors:
            raise PipelineError(
                f"{report.error_rejects} error rejects exceed --max-errors {max_errors}; "
                "mirror not replaced"
            )
        synced = sync(
            warehouse,
            Path(settings.mirror_path),
            progress=on_sync_rows,
            check=check,
            incremental=report.mode == "incremental",
        )
    return PipelineReport(
        build=report, sync=synced, seconds=round(time.perf_counter() - started, 3)
    )


def full_rebuild_due(mirror_path: Path, every_days: int = 7) -> bool:
    """True when the mirror has no full build from the last `every_days` days."""
    from datetime import UTC, datetime, timedelta

    from builder.sync import previous_builds

    cutoff = datetime.now(UTC) - timedelta(days=every_days)
    for row in reversed(previous_builds(Path(mirror_path))):
        if row.get("mode", "full") == "full":
            built = datetime.fromisoformat(str(row["built_at"])).replace(tzinfo=UTC)
            return built < cutoff
    return True

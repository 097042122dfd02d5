"""The daily pipeline and the rebuild job: build -> sync (-> validate) as one call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .core.config import Settings
from .core.errors import PipelineError
from .stages.build import BuildReport, build
from .stages.lock import writer_session
from .stages.profiles import profile_of
from .stages.strategy import FULL_EVERY_DAYS, Mode, Strategy, plan
from .stages.sync import Check, SyncReport, sync


@dataclass
class PipelineReport:
    build: BuildReport
    sync: SyncReport
    seconds: float
    strategy: Strategy


def rebuild(
    settings: Settings,
    *,
    max_errors: int | None = None,
    check: Check | None = None,
    on_build_step: Callable[[str], None] | None = None,
    on_sync_rows: Callable[[str, int], None] | None = None,
    on_strategy: Callable[[Strategy], None] | None = None,
    mode: Mode = "full",
    full_every_days: int | None = FULL_EVERY_DAYS,
    validate: bool = False,
) -> PipelineReport:
    """Build in the warehouse, then bring the mirror to it. The old mirror stays on failure.

    `max_errors`: fail before syncing when error rejects exceed it.
    `check`: runs on the finished, not yet swapped mirror file; raising aborts the swap.
    `mode`: what is asked; "incremental" MERGEs only what changed and patches a copy of
    the mirror, unless the strategy says a full rebuild is due (`full_every_days`) or
    cannot be had (builder.stages.strategy decides, once, and says why).
    `validate`: the check is the independent validation (builder.validate) of a new
    mirror file against the warehouse; a mismatch keeps the old mirror. (A patched
    mirror is not validated here; the periodic full rebuild validates.)
    Holds the writers' lock (builder.stages.lock) throughout: BusyError if another writer runs;
    what a killed writer left behind (sync temp files, load staging tables) is removed
    first.
    """
    started = time.perf_counter()
    profile = profile_of(settings)
    with writer_session(settings, "rebuild") as warehouse:
        strategy = plan(warehouse, mode, settings.mirror_path, full_every_days=full_every_days)
        if on_strategy:
            on_strategy(strategy)
        if validate and strategy.sync == "full":
            from .validate import check_mirror

            check = check_mirror(warehouse, settings, profile)
        report = build(warehouse, settings, strategy, progress=on_build_step, profile=profile)
        if max_errors is not None and report.error_rejects > max_errors:
            raise PipelineError(
                f"{report.error_rejects} error rejects exceed --max-errors {max_errors}; "
                "mirror not replaced"
            )
        synced = sync(
            warehouse, Path(settings.mirror_path), strategy, progress=on_sync_rows, check=check
        )
    return PipelineReport(
        build=report,
        sync=synced,
        seconds=round(time.perf_counter() - started, 3),
        strategy=strategy,
    )

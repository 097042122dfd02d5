"""The entry points: which contacts to check, `validate` itself, and `check_mirror`, the
hook that keeps a rebuild from replacing the mirror with one that differs."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..core.config import Settings
from ..core.errors import ContactEventsError, PipelineError
from ..core.files import create_private
from ..engine.base import Warehouse
from ..mirror.store import MirrorFiles
from ..stages.profiles import Profile, profile_of
from .compare import _Run
from .findings import MAX_FINDINGS, ValidationResult
from .sources import reference_sources


def select_contacts(
    warehouse: Warehouse, contacts: Sequence[str] | None, sample: int | None, seed: int = 0
) -> list[str] | None:
    """The contact ids to check: the given ones, N seeded random ones, or None (all)."""
    if contacts:
        return list(dict.fromkeys(contacts))
    if sample is None:
        return None
    ids = sorted(
        {
            v
            for batch in (
                warehouse.read_batches("contacts", ["contact_id"])
                if warehouse.table_exists("contacts")
                else ()
            )
            for v in batch.column(0).to_pylist()
            if v
        }
    )
    return random.Random(seed).sample(ids, min(max(sample, 0), len(ids)))  # noqa: S311


def validate(
    warehouse: Warehouse,
    settings: Settings,
    mirror_path: Path | None,
    contacts: Sequence[str] | None = None,
    sample: int | None = None,
    seed: int = 0,
    *,
    max_findings: int = MAX_FINDINGS,
    profile: Profile | None = None,
) -> ValidationResult:
    """Rebuild the ledger from the raw canonicals in Python and compare it with the
    warehouse projection and (if `mirror_path`) the SQLite mirror.

    `contacts`: only these contact ids (their events and rejects); their reference and
    ledger rows are kept in `result.timelines` for `render_timeline`. `sample`: N random
    contacts (seeded by `seed`). Default: everything, orphans and rejects included.
    `profile`: the settings' profile, when the caller has read it already.
    """
    selection = select_contacts(warehouse, contacts, sample, seed)
    if mirror_path is not None and not Path(mirror_path).exists():
        raise ContactEventsError(f"no mirror at {mirror_path}")
    run = _Run(
        warehouse,
        settings,
        reference_sources(profile or profile_of(settings)),
        Path(mirror_path) if mirror_path is not None else None,
        selection,
        keep_timelines=bool(contacts),
        max_findings=max_findings,
    )
    return run.run()


def check_mirror(
    warehouse: Warehouse, settings: Settings, profile: Profile | None = None
) -> Callable[[Path], dict[str, Any]]:
    """The `check` hook for `builder.pipeline.rebuild`: validates the finished, not yet
    swapped mirror file against the warehouse; raises PipelineError when they differ.

    A failed check keeps its whole report (every kept finding, with both values) in a
    file beside the mirror, readable by the owner only (the values are PHI); the error,
    which ends up in logs, carries counts and the file's path, never values."""

    def check(mirror: Path) -> dict[str, Any]:
        result = validate(warehouse, settings, mirror, profile=profile)
        if not result.ok:
            try:
                kept = f"report: {keep_failed_report(result, Path(settings.mirror_path))}"
            except OSError as e:  # a full disk must not hide the mismatch itself
                kept = f"report not kept: {e.strerror or e}"
            raise PipelineError(f"{result.summary()}; mirror not replaced; {kept}")
        return result.to_dict()

    return check


KEEP_FAILED_REPORTS = 10


def keep_failed_report(result: ValidationResult, mirror: Path) -> Path:
    """Write `<mirror name>.validation-failed-<UTC time>.json` (mode 0600) beside the
    mirror, and delete all but the newest KEEP_FAILED_REPORTS of them (they hold PHI)."""
    files = MirrorFiles.at(mirror)
    path = create_private(files.new_failed_report())
    with path.open("w", encoding="utf-8") as fh:
        json.dump(result.to_dict(listed=len(result.findings)), fh, indent=2, sort_keys=True)
    for old in files.failed_reports()[:-KEEP_FAILED_REPORTS]:
        old.unlink(missing_ok=True)
    return path

"""`contact-events build`: run the projection SQL in the warehouse.

queries/sources/<table>.sql stage each canonical table into one shape; the shared
resolution (queries/resolve/: events -> contacts -> changed -> resolve) parses,
dedupes and resolves contacts; queries/publish/ writes the ledger and the rejects,
either outright (full rebuild, the default) or by MERGE (incremental). The same files
run on every engine (see builder/sql.py).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

from builder.config import Settings
from builder.contract import BUILD_TABLE, LEDGER_TABLE, REASONS, SOURCES, WARNING_REASONS
from builder.warehouse import Warehouse

SOURCE_QUERIES = tuple(f"sources/{table}" for table in SOURCES)
RESOLVE_QUERIES = ("resolve/events", "resolve/contacts", "resolve/changed", "resolve/resolve")
STEPS = ("publish/begin", "publish/bootstrap", *SOURCE_QUERIES, *RESOLVE_QUERIES, "publish/full")
INCREMENTAL_STEPS = (
    *STEPS[: STEPS.index("resolve/changed") + 1],
    "resolve/deleted",
    *STEPS[STEPS.index("resolve/changed") + 1 : -1],
    "publish/incremental",
)
FINAL_STEPS = ("publish/watermarks",)


@dataclass
class BuildReport:
    build_id: str
    warehouse: str
    ledger_rows: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    rejects_by_source: dict[str, dict[str, int]] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    contacts: int = 0
    mode: str = "full"
    records_resolved: int = 0
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.ledger_rows.values())

    @property
    def error_rejects(self) -> int:
        return sum(n for r, n in self.rejects_by_reason.items() if r not in WARNING_REASONS)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BuildReport:
        return cls(**json.loads(text))


def _collect_report(warehouse: Warehouse, report: BuildReport) -> None:
    report.ledger_rows = {system: 0 for system, _ in SOURCES.values()}
    report.duplicates = dict(report.ledger_rows)
    report.rejects_by_reason = {reason: 0 for reason in REASONS}
    for row in warehouse.fetch_query_file("report/build_report"):
        measure, system, reason, n = row["measure"], row["source_system"], row["reason"], row["n"]
        n = int(n)  # type: ignore[arg-type]
        if measure == "ledger_rows":
            report.ledger_rows[system] = n
        elif measure == "duplicates":
            report.duplicates[system] = n
        elif measure == "rejects":
            report.rejects_by_reason[reason] = report.rejects_by_reason.get(reason, 0) + n
            report.rejects_by_source.setdefault(system, {})[reason] = n
        elif measure == "contacts":
            report.contacts = n
        elif measure == "records_resolved":
            report.records_resolved = n


def build_params(settings: Settings, incremental: bool = False) -> dict[str, object]:
    """Query parameters of the projection (scalars: every engine binds those alike)."""
    return {
        "practice_emails": ",".join(settings.practice_emails),
        "incremental": incremental,
        "lookback_hours": settings.incremental_lookback_hours,
    }


def dry_run_statements(
    warehouse: Warehouse, settings: Settings
) -> Iterator[tuple[str, str, str | None]]:
    """(step, SQL, estimate) for every statement a build would run; runs nothing."""
    params = build_params(settings)
    for step in (*STEPS, *FINAL_STEPS):
        for statement in warehouse.statements(step):
            yield step, statement.sql, warehouse.estimate(statement.sql, statement.bind(params))


def build(
    warehouse: Warehouse,
    settings: Settings,
    progress: Callable[[str], None] | None = None,
    incremental: bool = False,
) -> BuildReport:
    """Rebuild proj_contact_events and its rejects from the canonical tables.

    `incremental`: re-resolve only records changed since the last build (per-source
    created_at watermark minus the look-back, plus records of changed contacts) and
    MERGE them in. Falls back to a full build when there is no previous build.
    """
    started = time.perf_counter()
    report = BuildReport(build_id=uuid.uuid4().hex, warehouse=warehouse.kind)
    previous = None
    if warehouse.table_exists(BUILD_TABLE):
        rows = warehouse.fetch_query_file("report/build_latest")
        previous = str(rows[0]["build_id"]) if rows else None
    if incremental and (previous is None or not warehouse.table_exists(LEDGER_TABLE)):
        incremental = False  # nothing to apply changes to: build everything
    report.mode = "incremental" if incremental else "full"
    params = build_params(settings, incremental)
    for step in (*(INCREMENTAL_STEPS if incremental else STEPS), *FINAL_STEPS):
        warehouse.run_query_file(step, params)
        if progress:
            progress(step)
    _collect_report(warehouse, report)
    report.seconds = round(time.perf_counter() - started, 3)
    warehouse.run_query_file(
        "publish/build_meta",
        {
            "build_id": report.build_id,
            "warehouse": warehouse.kind,
            "mode": report.mode,
            "previous_build_id": previous if incremental else None,
            "report": report.to_json(),
        },
    )
    return report

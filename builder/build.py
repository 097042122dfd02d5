"""`contact-events build`: run the projection SQL in the warehouse, full rebuild.

queries/sources/<table>.sql stage each canonical table into one shape, then
queries/resolve.sql dedupes, parses, resolves contacts and writes the ledger and the
rejects. The same files run on every engine (see builder/sql.py).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

from builder.config import Settings
from builder.contract import REASONS, SOURCES, WARNING_REASONS
from builder.warehouse import Warehouse

SOURCE_QUERIES = tuple(f"sources/{table}" for table in SOURCES)
STEPS = (*SOURCE_QUERIES, "resolve")


@dataclass
class BuildReport:
    build_id: str
    warehouse: str
    ledger_rows: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    rejects_by_source: dict[str, dict[str, int]] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    contacts: int = 0
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
    for row in warehouse.fetch_query_file("build_report"):
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


def build_params(settings: Settings) -> dict[str, object]:
    """Query parameters of the projection (scalars: every engine binds those alike)."""
    return {"practice_emails": ",".join(settings.practice_emails)}


def dry_run_statements(
    warehouse: Warehouse, settings: Settings
) -> Iterator[tuple[str, str, str | None]]:
    """(step, SQL, estimate) for every statement a build would run; runs nothing."""
    params = build_params(settings)
    for step in STEPS:
        for statement in warehouse.statements(step):
            yield step, statement.sql, warehouse.estimate(statement.sql, statement.bind(params))


def build(
    warehouse: Warehouse,
    settings: Settings,
    progress: Callable[[str], None] | None = None,
) -> BuildReport:
    """Rebuild proj_contact_events and its rejects from the canonical tables."""
    started = time.perf_counter()
    report = BuildReport(build_id=uuid.uuid4().hex, warehouse=warehouse.kind)
    params = build_params(settings)
    for step in STEPS:
        warehouse.run_query_file(step, params)
        if progress:
            progress(step)
    _collect_report(warehouse, report)
    report.seconds = round(time.perf_counter() - started, 3)
    warehouse.run_query_file(
        "build_meta",
        {"build_id": report.build_id, "warehouse": warehouse.kind, "report": report.to_json()},
    )
    return report

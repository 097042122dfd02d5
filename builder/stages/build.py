"""`contact-events build`: run the projection SQL in the warehouse.

The profile's source files (builder/stages/profiles.py) stage every canonical row into one
shape; the shared resolution (queries/resolve/: stage -> events -> contacts -> changed ->
resolve) parses, dedupes and resolves contacts; queries/publish/ writes the ledger and
the rejects, outright (a full build, the default) or by MERGE (incremental), as the
`Strategy` (builder/stages/strategy.py) says. The same files run on every engine
(builder/engine/sql.py).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlglot import exp

from ..core.config import Settings
from ..core.contract import REASONS, WARNING_REASONS
from ..core.errors import WarehouseError
from ..engine import Warehouse, sql
from .profiles import Profile, SourceFile, profile_of
from .strategy import FULL, PREVIOUS_STAGE, Strategy

log = logging.getLogger("contact_events.build")
# The staged rows of a build (resolve/stage_sources.sql), and where the build keeps them
# for the next incremental build to compare with (resolve/changed.sql) and for `validate`.
STAGE = "proj_stage_sources"
STEP_COUNT = 10  # steps of a build: plan()'s length, for progress bars


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
    profile: str = "flat"
    event_types: list[str] = field(default_factory=list)
    strategy: dict[str, Any] = field(default_factory=dict)
    # rows per canonical input (table, or canonical_schema for lorchestra), read or not
    inputs: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

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


@dataclass(frozen=True)
class Step:
    """One step of a build: a label for progress, its statements, its own parameters."""

    label: str
    statements: tuple[sql.Statement, ...] = ()
    params: dict[str, object] = field(default_factory=dict)
    files: tuple[SourceFile, ...] = ()  # the profile files it runs, for error messages
    # a step that is no statement of ours: an adapter call (e.g. BigQuery's copy job)
    action: Callable[[Warehouse], None] | None = None
    note: str = ""  # what `action` does, for --dry-run
    # the step's statement for one of its `files` alone: run file by file when the step
    # fails, so the error names the file at fault, not all of them
    alone: Callable[[SourceFile], sql.Statement] | None = None


def build_params(settings: Settings) -> dict[str, object]:
    """Query parameters of the projection (scalars: every engine binds those alike)."""
    return {"practice_emails": ",".join(settings.practice_emails)}


def plan(warehouse: Warehouse, profile: Profile, strategy: Strategy) -> list[Step]:
    """Every step a build runs, in order (also what `build --dry-run` prints)."""
    json_text = warehouse.json_text_columns(profile.tables or {})

    def files(*names: str) -> list[Step]:
        return [Step(name, warehouse.statements(name)) for name in names]

    def staged(template: str, source: SourceFile, **params: object) -> Step:
        statement = warehouse.render_sources(
            template, [(source.query, {})], f"{template} <- {source.label}", json_text
        )
        return Step(f"source {source.name}", (statement,), dict(params), (source,))

    def stage_sources(sources: tuple[SourceFile, ...]) -> sql.Statement:
        return warehouse.render_sources(
            "resolve/stage_sources",
            [(s.query, {"source_system": s.source_system, "event_type": s.event_type})
             for s in sources],
            "resolve/stage_sources <- " + ", ".join(s.label for s in sources),
            json_text,
        )  # fmt: skip

    steps = files("publish/begin")
    steps.append(
        Step(
            "stage sources",
            (stage_sources(profile.sources),),
            files=profile.sources,
            alone=lambda source: stage_sources((source,)),
        )
    )
    steps.append(staged("resolve/stage_contacts", profile.contacts))
    steps += files("publish/bootstrap", "resolve/events", "resolve/contacts")
    if strategy.build == "incremental":
        steps += files("resolve/changed", "resolve/resolve", "publish/incremental")
    else:
        steps += files("resolve/changed_all", "resolve/resolve", "publish/full")
    steps.append(
        Step(
            "remember",
            action=lambda wh: wh.keep_table(STAGE, PREVIOUS_STAGE),
            note=f"keep {STAGE} as {PREVIOUS_STAGE}, for the next incremental build",
        )
    )
    return steps


def _at_fault(
    warehouse: Warehouse, step: Step, error: WarehouseError, params: dict[str, object]
) -> tuple[str, WarehouseError]:
    """The file of a failed `step` that fails on its own, and its error (the step's own
    error and all its files when none fails alone)."""
    if step.alone is not None and len(step.files) > 1:
        for source in step.files:
            try:
                warehouse.run(step.alone(source), params)
            except WarehouseError as alone:
                return str(source.path), alone
    return ", ".join(str(f.path) for f in step.files), error


def dry_run_statements(
    warehouse: Warehouse, settings: Settings
) -> Iterator[tuple[str, str, str | None]]:
    """(step, SQL, estimate) for every statement a full build would run; runs nothing."""
    params = build_params(settings)
    for step in plan(warehouse, profile_of(settings), Strategy("full", "full", "dry run")):
        if step.action is not None:
            yield step.label, f"-- {step.note}", None
        for statement in step.statements:
            bound = statement.bind({**params, **step.params})
            estimate = warehouse.estimate(statement.sql, bound, name=statement.name)
            yield statement.name, statement.sql, estimate


def tables_read(profile: Profile) -> dict[str, list[str]]:
    """Warehouse tables the profile's files read -> the files reading them."""
    found: dict[str, list[str]] = {}
    for source in (*profile.sources, profile.contacts, *filter(None, [profile.inputs])):
        ctes = {cte.alias_or_name for cte in source.query.find_all(exp.CTE)}
        for table in source.query.find_all(exp.Table):
            if table.name and table.name not in ctes and not isinstance(table.this, exp.Func):
                found.setdefault(table.name, [])
                if source.path.name not in found[table.name]:
                    found[table.name].append(source.path.name)
    return found


def check_inputs(warehouse: Warehouse, profile: Profile) -> None:
    """Every table the profile reads exists, or one error naming the missing ones."""
    missing = {t: f for t, f in tables_read(profile).items() if not warehouse.table_exists(t)}
    if not missing:
        return
    names = ", ".join(sorted(missing))
    if profile.builtin:
        raise WarehouseError(
            f"the {profile.name} profile's canonical tables are missing from the "
            f"{warehouse.kind} warehouse: {names}; load them first: contact-events load DIR"
        )
    readers = "; ".join(f"{t} (read by {', '.join(f)})" for t, f in sorted(missing.items()))
    raise WarehouseError(f"tables missing from the {warehouse.kind} warehouse: {readers}")


def build(
    warehouse: Warehouse,
    settings: Settings,
    strategy: Strategy = FULL,
    *,
    progress: Callable[[str], None] | None = None,
    profile: Profile | None = None,
) -> BuildReport:
    """Rebuild proj_contact_events and its rejects from the canonical tables, as
    `strategy` says (builder.stages.strategy: `plan` decides it; FULL by default). `progress` is
    called with each step's label as it finishes (`len(plan(...))` of them)."""
    started = time.perf_counter()
    profile = profile or profile_of(settings)
    check_inputs(warehouse, profile)
    report = BuildReport(
        build_id=uuid.uuid4().hex,
        warehouse=warehouse.kind,
        mode=strategy.build,
        profile=profile.name,
        event_types=list(profile.event_types),
        strategy=strategy.to_dict(),
    )
    params = build_params(settings)
    if not settings.practice_emails and any(s.event_type == "email" for s in profile.sources):
        report.warnings.append(
            "CONTACT_EVENTS_PRACTICE_EMAILS is not set: every email counts as inbound"
        )
    log.info(
        "%s build on %s (%s profile): %s",
        strategy.build,
        warehouse.kind,
        profile.name,
        strategy.reason,
    )
    for step in plan(warehouse, profile, strategy):
        step_started = time.perf_counter()
        if step.action is not None:
            step.action(warehouse)
        for statement in step.statements:
            try:
                warehouse.run(statement, {**params, **step.params})
            except WarehouseError as e:
                if not step.files:
                    raise
                source, error = _at_fault(warehouse, step, e, {**params, **step.params})
                raise WarehouseError(f"source file {source}: {error}") from e
        log.info("build step %s: %.2fs", step.label, time.perf_counter() - step_started)
        if progress:
            progress(step.label)
    _collect_report(warehouse, profile, report)
    report.seconds = round(time.perf_counter() - started, 3)
    warehouse.run_query_file(
        "publish/build_meta",
        {
            "build_id": report.build_id,
            "warehouse": warehouse.kind,
            "mode": report.mode,
            "previous_build_id": strategy.base_build_id if report.mode == "incremental" else None,
            "report": report.to_json(),
        },
    )
    return report


def _collect_report(warehouse: Warehouse, profile: Profile, report: BuildReport) -> None:
    report.ledger_rows = {system: 0 for system in profile.source_systems}
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
    if profile.inputs is not None:
        statement = warehouse.render_sources(
            "report/inputs",
            [(profile.inputs.query, {})],
            f"report/inputs <- {profile.inputs.label}",
        )
        rows = warehouse.fetch(statement.sql, name=statement.name)
        report.inputs = [
            {"input": str(r["input"]), "rows": int(r["row_count"]), "used": bool(r["used"])}  # type: ignore[arg-type]
            for r in rows
        ]

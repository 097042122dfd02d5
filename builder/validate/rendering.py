"""Rich output for the CLI: the findings and summary tables, and one contact's reference
timeline beside the ledger's.

Every value is printed as data: cells are `Text`, never markup or emoji codes (an id
`[/bold]` or `:100:` prints as written). Id columns never wrap: a table is printed at
least as wide as its ids need, whatever the console's width."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from ..core.config import Settings
from ..engine.base import Warehouse
from .api import validate
from .findings import (
    FIELD_DIFFERS,
    KINDS,
    MISSING,
    UNEXPECTED,
    Finding,
    ValidationResult,
    _jsonable,
)
from .timestamps import _MIN_US, mirror_text


def _short(value: Any, width: int = 60) -> str:
    if value is None:
        return "∅"
    text = value if isinstance(value, str) else json.dumps(_jsonable(value), ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def _print(console: Console, renderable: Table | Text) -> None:
    """Print never narrower than the table's no-wrap columns need (ids stay whole)."""
    if isinstance(renderable, Table):
        wide = console.options.update_width(10**5)
        need = Measurement.get(console, wide, renderable).minimum
        width = console.width
        console.width = max(width, need)
        try:
            console.print(renderable, crop=False)
        finally:
            console.width = width
    else:
        console.print(renderable, soft_wrap=True)


def _cells(*values: object) -> list[Text]:
    return [v if isinstance(v, Text) else Text("" if v is None else str(v)) for v in values]


ID_COLUMNS = ("contact", "record", "source", "target", "kind", "field")


def render(result: ValidationResult, console: Console) -> None:
    """Findings per contact, per source, then a summary table."""
    kept = result.findings
    if kept:
        by_contact: dict[str, list[Finding]] = defaultdict(list)
        for f in kept:
            by_contact[f.contact_id or "(no contact)"].append(f)
        table = Table(title=Text("findings per contact"), show_lines=False)
        for col in ("contact", "target", "source", "record", "kind", "field", "expected", "actual"):
            if col in ID_COLUMNS:
                table.add_column(col, no_wrap=True)
            else:
                table.add_column(col, overflow="fold")
        for contact in sorted(by_contact):
            for f in by_contact[contact]:
                style = "yellow" if f.severity == "warning" else None
                table.add_row(
                    *_cells(
                        contact,
                        f.target,
                        f.source_system or "",
                        f.source_record_id or "",
                        f.kind,
                        f.field or "",
                        _short(f.expected),
                        _short(f.actual),
                    ),
                    style=style,
                )
        _print(console, table)
        total = sum(result.counts.values())
        if total > len(kept):
            _print(console, Text(f"(showing {len(kept)} of {total} findings)"))
        per_source = Table(title=Text("findings per source"))
        per_source.add_column("source", no_wrap=True)
        per_source.add_column("target", no_wrap=True)
        per_source.add_column("kind", no_wrap=True)
        per_source.add_column("n", justify="right")
        for (target, system, kind), n in sorted(
            result.by_source.items(), key=lambda i: (i[0][1], i[0][0], i[0][2])
        ):
            per_source.add_row(*_cells(system, target, kind, n))
        _print(console, per_source)
    summary = Table(title=Text("validation summary"))
    summary.add_column("finding", no_wrap=True)
    for target in result.targets:
        summary.add_column(Text(target), justify="right")
    for kind in KINDS:
        values = [result.counts.get((t, kind), 0) for t in result.targets]
        if any(values) or kind in (MISSING, UNEXPECTED, FIELD_DIFFERS):
            summary.add_row(*_cells(kind, *values))
    _print(console, summary)
    scope = "all contacts" if result.selection is None else f"{len(result.selection)} contacts"
    status = Text("OK", style="bold green") if result.ok else Text("MISMATCH", style="bold red")
    _print(
        console,
        Text.assemble(
            status,
            f"  {scope}: {result.contacts_checked} contacts, {result.events_checked} events, "
            f"{result.rejects_checked} rejects checked against {', '.join(result.targets)} "
            f"in {result.seconds:.2f}s; {result.errors} errors, {result.warnings} warnings",
        ),
    )
    if result.scope:
        console.print(Text(f"reference read from {result.scope}"))


def _when(micros: int | None) -> str:
    """Short UTC display: seconds, plus microseconds only when there are some."""
    if micros is None:
        return "∅"
    text = mirror_text(micros)
    return text[:19] if text.endswith(".000000") else text


def render_timeline(
    source: ValidationResult | Warehouse,
    contact_id: str,
    console: Console,
    *,
    settings: Settings | None = None,
    mirror_path: Path | None = None,
) -> ValidationResult:
    """One contact's reference timeline beside the ledger's, newest first, ✓/✗ per row.

    `source` is a result of `validate(..., contacts=[contact_id, ...])`, or a warehouse
    (then `settings` is needed, and that contact is validated first).
    """
    if isinstance(source, ValidationResult):
        result = source
    else:
        if settings is None:
            raise TypeError("render_timeline(warehouse, ...) needs settings=")
        result = validate(source, settings, mirror_path, contacts=[contact_id])
    timeline = result.timelines.get(contact_id)
    if timeline is None:
        _print(
            console,
            Text(f"no timeline kept for {contact_id!r}: validate with contacts=[{contact_id!r}]"),
        )
        return result
    targets = result.targets
    ref = {(r["source_system"], r["source_record_id"]): r for r in timeline.reference}
    ledger_target = targets[0]
    ledgers = {
        t: {(r["source_system"], r["source_record_id"]): r for r in timeline.ledger[t]}
        for t in targets
    }
    keys = set(ref)
    for t in targets:
        keys |= set(ledgers[t])

    def newest(key: tuple[str, str]) -> int:
        stamps = [
            r["_ts"]
            for r in (ref.get(key), *(ledgers[t].get(key) for t in targets))
            if r is not None and r["_ts"] is not None
        ]
        return max(stamps) if stamps else _MIN_US - 1

    ordered = sorted(keys, key=lambda k: (k[0] or "", k[1] or ""))
    ordered.sort(key=newest, reverse=True)
    table = Table(title=Text(f"timeline of {contact_id}: reference vs ledger ({ledger_target})"))
    for col in ("reference time (UTC)", "type", "name", "record"):
        table.add_column(col, overflow="fold", no_wrap=col != "name")
    for col in (f"{ledger_target} time", "type", "name"):
        table.add_column(Text(col), overflow="fold", no_wrap=col != "name")
    for t in targets:
        table.add_column(t, justify="center")
    for key in ordered:
        r = ref.get(key)
        lg = ledgers[ledger_target].get(key)
        marks = []
        for t in targets:
            bad = (t, key[0], key[1]) in result.flagged or (key in ref) != (key in ledgers[t])
            marks.append(Text("✗", style="bold red") if bad else Text("✓", style="green"))
        table.add_row(
            *_cells(
                _when(r["_ts"]) if r else "—",
                r["event_type"] if r else "",
                _short(r["event_name"], 40) if r else "",
                f"{(key[0] or '').removeprefix('canonical.')}/{key[1]}",
                (_when(lg["_ts"]) if lg["_ts"] is not None else _short(lg["event_timestamp"]))
                if lg
                else "—",
                lg["event_type"] if lg else "",
                _short(lg["event_name"], 40) if lg else "",
                *marks,
            )
        )
    _print(console, table)
    if timeline.reference_rejects or any(timeline.ledger_rejects.values()):
        rejects = Table(title=Text(f"rejects related to {contact_id}"))
        rejects.add_column("record", no_wrap=True)
        rejects.add_column("reference", no_wrap=True)
        for t in targets:
            rejects.add_column(Text(t), no_wrap=True)
        by_key: dict[tuple, dict[str, str]] = defaultdict(dict)
        for r in timeline.reference_rejects:
            by_key[(r["source_system"], r["source_record_id"])]["reference"] = r["reason"]
        for t in targets:
            for r in timeline.ledger_rejects[t]:
                by_key[(r["source_system"], r["source_record_id"])][t] = r["reason"]
        for key in sorted(by_key, key=lambda k: (k[0] or "", k[1] or "")):
            got = by_key[key]
            rejects.add_row(
                *_cells(
                    f"{key[0]}/{key[1]}",
                    got.get("reference", "—"),
                    *(got.get(t, "—") for t in targets),
                )
            )
        _print(console, rejects)
    findings = [f for f in result.findings if f.contact_id == contact_id]
    for f in findings[:50]:
        _print(
            console,
            Text(
                f"  ✗ {f.target} {f.source_system}/{f.source_record_id} {f.kind}"
                + (
                    f" {f.field}: expected {_short(f.expected)}, got {_short(f.actual)}"
                    if f.field
                    else ""
                )
            ),
        )
    return result

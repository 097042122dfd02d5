"""Rich output for the CLI: the findings and summary tables, and one contact's reference
timeline beside the ledger's."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from builder.config import Settings
from builder.validate.api import validate
from builder.validate.findings import (
    FIELD_DIFFERS,
    KINDS,
    MISSING,
    UNEXPECTED,
    Finding,
    ValidationResult,
    _jsonable,
)
from builder.validate.timestamps import _MIN_US, mirror_text
from builder.warehouse.base import Warehouse


def _short(value: Any, width: int = 60) -> str:
    if value is None:
        return "∅"
    text = value if isinstance(value, str) else json.dumps(_jsonable(value), ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def render(result: ValidationResult, console: Console) -> None:
    """Findings per contact, per source, then a summary table."""
    kept = result.findings
    if kept:
        by_contact: dict[str, list[Finding]] = defaultdict(list)
        for f in kept:
            by_contact[f.contact_id or "(no contact)"].append(f)
        table = Table(title="findings per contact", show_lines=False)
        for col in ("contact", "target", "source", "record", "kind", "field", "expected", "actual"):
            table.add_column(col, overflow="fold")
        for contact in sorted(by_contact):
            for f in by_contact[contact]:
                style = "yellow" if f.severity == "warning" else None
                table.add_row(
                    contact,
                    f.target,
                    f.source_system or "",
                    f.source_record_id or "",
                    f.kind,
                    f.field or "",
                    _short(f.expected),
                    _short(f.actual),
                    style=style,
                )
        console.print(table)
        total = sum(result.counts.values())
        if total > len(kept):
            console.print(f"(showing {len(kept)} of {total} findings)")
        per_source = Table(title="findings per source")
        per_source.add_column("source")
        per_source.add_column("target")
        per_source.add_column("kind")
        per_source.add_column("n", justify="right")
        for (target, system, kind), n in sorted(
            result.by_source.items(), key=lambda i: (i[0][1], i[0][0], i[0][2])
        ):
            per_source.add_row(system, target, kind, str(n))
        console.print(per_source)
    summary = Table(title="validation summary")
    summary.add_column("finding")
    for target in result.targets:
        summary.add_column(target, justify="right")
    for kind in KINDS:
        values = [result.counts.get((t, kind), 0) for t in result.targets]
        if any(values) or kind in (MISSING, UNEXPECTED, FIELD_DIFFERS):
            summary.add_row(kind, *(str(v) for v in values))
    console.print(summary)
    scope = "all contacts" if result.selection is None else f"{len(result.selection)} contacts"
    status = Text("OK", style="bold green") if result.ok else Text("MISMATCH", style="bold red")
    console.print(
        Text.assemble(
            status,
            f"  {scope}: {result.contacts_checked} contacts, {result.events_checked} events, "
            f"{result.rejects_checked} rejects checked against {', '.join(result.targets)} "
            f"in {result.seconds:.2f}s; {result.errors} errors, {result.warnings} warnings",
        )
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
        console.print(
            f"no timeline kept for {contact_id!r}: validate with contacts=[{contact_id!r}]"
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
    table = Table(title=f"timeline of {contact_id}: reference vs ledger ({ledger_target})")
    for col in ("reference time (UTC)", "type", "name", "record"):
        table.add_column(col, overflow="fold", no_wrap=col.endswith("(UTC)"))
    for col in (f"{ledger_target} time", "type", "name"):
        table.add_column(col, overflow="fold", no_wrap=col.endswith("time"))
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
    console.print(table)
    if timeline.reference_rejects or any(timeline.ledger_rejects.values()):
        rejects = Table(title=f"rejects related to {contact_id}")
        rejects.add_column("record")
        rejects.add_column("reference")
        for t in targets:
            rejects.add_column(t)
        by_key: dict[tuple, dict[str, str]] = defaultdict(dict)
        for r in timeline.reference_rejects:
            by_key[(r["source_system"], r["source_record_id"])]["reference"] = r["reason"]
        for t in targets:
            for r in timeline.ledger_rejects[t]:
                by_key[(r["source_system"], r["source_record_id"])][t] = r["reason"]
        for key in sorted(by_key, key=lambda k: (k[0] or "", k[1] or "")):
            got = by_key[key]
            rejects.add_row(
                f"{key[0]}/{key[1]}", got.get("reference", "—"), *(got.get(t, "—") for t in targets)
            )
        console.print(rejects)
    findings = [f for f in result.findings if f.contact_id == contact_id]
    for f in findings[:50]:
        console.print(
            f"  ✗ {f.target} {f.source_system}/{f.source_record_id} {f.kind}"
            + (
                f" {f.field}: expected {_short(f.expected)}, got {_short(f.actual)}"
                if f.field
                else ""
            )
        )
    return result

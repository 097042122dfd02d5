"""What a validation reports: the finding kinds, one `Finding` per mismatch, and the
`ValidationResult` that counts them (errors make it fail, warnings do not)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

WAREHOUSE = "warehouse"
MIRROR = "mirror"

MISSING = "missing"  # in the reference ledger, not in the ledger
UNEXPECTED = "unexpected"  # in the ledger, not in the reference ledger
FIELD_DIFFERS = "field_differs"
DUPLICATE_KEY = "duplicate_key"  # (source_system, source_record_id) twice in a table
REJECT_MISSING = "reject_missing"
REJECT_UNEXPECTED = "reject_unexpected"
REJECT_DIFFERS = "reject_differs"  # reason or severity
CONTACT_MISSING = "contact_missing"
CONTACT_UNEXPECTED = "contact_unexpected"
CONTACT_DIFFERS = "contact_differs"
BUILD_REPORT_DIFFERS = "build_report_differs"  # mirror ledger_builds counts
TABLE_MISSING = "table_missing"
PAYLOAD_NOT_CANONICAL = "payload_not_canonical"  # same object, not sorted compact JSON
COLUMN_TYPE = "column_type"  # e.g. a warehouse event_timestamp without a time zone

KINDS = (
    MISSING,
    UNEXPECTED,
    FIELD_DIFFERS,
    DUPLICATE_KEY,
    REJECT_MISSING,
    REJECT_UNEXPECTED,
    REJECT_DIFFERS,
    CONTACT_MISSING,
    CONTACT_UNEXPECTED,
    CONTACT_DIFFERS,
    BUILD_REPORT_DIFFERS,
    TABLE_MISSING,
    PAYLOAD_NOT_CANONICAL,
    COLUMN_TYPE,
)
WARNING_KINDS = frozenset({PAYLOAD_NOT_CANONICAL, COLUMN_TYPE})

MAX_FINDINGS = 1000


@dataclass(frozen=True)
class Finding:
    target: str  # "warehouse" | "mirror"
    kind: str
    source_system: str | None = None
    source_record_id: str | None = None
    contact_id: str | None = None  # the contact the record belongs to (reference first)
    field: str | None = None
    expected: Any = None
    actual: Any = None

    @property
    def severity(self) -> str:
        return "warning" if self.kind in WARNING_KINDS else "error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "kind": self.kind,
            "severity": self.severity,
            "source_system": self.source_system,
            "source_record_id": self.source_record_id,
            "contact_id": self.contact_id,
            "field": self.field,
            "expected": _jsonable(self.expected),
            "actual": _jsonable(self.actual),
        }


@dataclass
class ContactTimeline:
    """One selected contact: reference rows and ledger rows (dicts of ledger columns)."""

    contact_id: str
    reference: list[dict[str, Any]] = field(default_factory=list)
    ledger: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by target
    reference_rejects: list[dict[str, Any]] = field(default_factory=list)
    ledger_rejects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class ValidationResult:
    targets: list[str] = field(default_factory=list)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (target, kind)
    by_source: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    by_contact: Counter[str] = field(default_factory=Counter)  # error findings
    findings: list[Finding] = field(default_factory=list)  # the first `max_findings`
    max_findings: int = MAX_FINDINGS
    selection: list[str] | None = None  # None: every contact, orphans and rejects
    contacts_checked: int = 0
    events_checked: int = 0  # reference ledger rows in scope
    rejects_checked: int = 0  # reference reject rows in scope (orphans included)
    records_checked: int = 0  # logical source records in scope
    reference: dict[str, Any] = field(default_factory=dict)  # reference counts
    timelines: dict[str, ContactTimeline] = field(default_factory=dict)
    seconds: float = 0.0
    scope: str = ""  # what the reference was read from (builder.validate.sources)
    # (target, source_system, source_record_id) with an error finding, selected contacts
    flagged: set[tuple[str, str | None, str | None]] = field(default_factory=set)

    @property
    def errors(self) -> int:
        return sum(n for (_, kind), n in self.counts.items() if kind not in WARNING_KINDS)

    @property
    def warnings(self) -> int:
        return sum(n for (_, kind), n in self.counts.items() if kind in WARNING_KINDS)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def count(self, kind: str, target: str | None = None) -> int:
        return sum(n for (t, k), n in self.counts.items() if k == kind and target in (None, t))

    def find(self, **where: Any) -> list[Finding]:
        """The kept findings whose attributes equal every `where` value."""
        return [f for f in self.findings if all(getattr(f, k) == v for k, v in where.items())]

    def add(self, finding: Finding) -> None:
        self.counts[(finding.target, finding.kind)] += 1
        self.by_source[(finding.target, finding.source_system or "-", finding.kind)] += 1
        if finding.kind not in WARNING_KINDS:
            self.by_contact[finding.contact_id or "-"] += 1
            if self.selection is not None:
                self.flagged.add((finding.target, finding.source_system, finding.source_record_id))
        if len(self.findings) < self.max_findings:
            self.findings.append(finding)

    def summary(self) -> str:
        if self.ok:
            return f"validation ok ({self.events_checked} events, {self.warnings} warnings)"
        parts = []
        for target in self.targets:
            kinds = sorted(
                (k, n)
                for (t, k), n in self.counts.items()
                if t == target and n and k not in WARNING_KINDS
            )
            if kinds:
                parts.append(f"{target}: " + ", ".join(f"{k} {n}" for k, n in kinds))
        return f"validation found {self.errors} mismatches ({'; '.join(parts)})"

    def to_dict(self, listed: int = 20) -> dict[str, Any]:
        """Counts, plus the first `listed` findings (the mirror keeps 20)."""
        by_kind: Counter[str] = Counter()
        by_target: dict[str, dict[str, int]] = {t: {} for t in self.targets}
        for (target, kind), n in sorted(self.counts.items()):
            by_kind[kind] += n
            by_target.setdefault(target, {})[kind] = n
        by_source: dict[str, dict[str, int]] = {}
        for (target, system, kind), n in sorted(self.by_source.items()):
            by_source.setdefault(system, {})[f"{target}.{kind}"] = n
        return {
            "ok": self.ok,
            "errors": self.errors,
            "warnings": self.warnings,
            "counts": dict(sorted(by_kind.items())),
            "by_target": by_target,
            "by_source": by_source,
            "targets": list(self.targets),
            "contacts_checked": self.contacts_checked,
            "events_checked": self.events_checked,
            "rejects_checked": self.rejects_checked,
            "records_checked": self.records_checked,
            "selection": None if self.selection is None else len(self.selection),
            "reference": self.reference,
            "seconds": self.seconds,
            "scope": self.scope,
            "findings": [f.to_dict() for f in self.findings[:listed]],
        }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)

"""`contact-events validate`: an independent reference path, compared with the ledger.

The ledger is built by SQL (queries/). This module rebuilds it a second time in plain
Python, straight from CONTRACT.md §1-3 and the rules written down next to it, and
compares the two: the warehouse projection (`proj_contact_events`, its rejects and
`proj_contacts`) and, when given, a SQLite mirror file (opened read-only). Nothing is
shared with the SQL path but the constants of `builder.contract` (GitHub issue 5), so a
mapping bug in one cannot hide the same bug in the other.

Memory: canonical rows are streamed (`Warehouse.read_batches`) and never held. The
reference ledger of one source at a time is held in a dict keyed by `source_record_id`
(compact tuples), then the ledger rows of that source are streamed and compared, then
the dict is dropped. The contacts (deduplicated) and the rejects tables are held whole.

Rules this reference path applies (CONTRACT §1-3, plus the decisions it leaves open):

* Timestamps: trimmed of surrounding whitespace (`contract.TRIM_CHARS`); empty = missing;
  otherwise the whole text must match `contract.TIMESTAMP_RE`, with ASCII digits, and be
  a real instant (2024-02-30 is bad, and so is an instant that leaves years 1-9999 once
  in UTC: no engine or mirror text can hold it); no offset means UTC, a date alone is
  midnight (at its offset, if it has one: the grammar allows `2024-03-01+02:00`).
* Ids: `''` is missing; ids are not trimmed. Other strings: `''` is null.
* Emails compare trimmed (`contract.TRIM_CHARS`) and lower-cased (Python's Unicode
  lower-casing); `message.direction` too. Subjects, channels, names are not trimmed.
* Dedupe per (source_system, source_record_id): latest parsed `created_at` wins (null or
  unparseable loses); ties by the smallest (event_name, event_source, timestamp_raw,
  source_contact_id, email_norm, payload_json_text, created_at_raw), None first.
* Contacts: no/empty contact_id ignored; duplicates: latest `updated_at`, ties by the
  smallest (email, first_name, last_name, lifecycle_stage, client_type_code,
  updated_at), None first; expected `proj_contacts` row = the winner as written,
  `''` read as null.

Finding kinds (`KINDS`) are errors except `payload_not_canonical` and `column_type`,
which are warnings: they do not make a result fail.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.table import Table
from rich.text import Text

from builder import contract as c
from builder.config import Settings
from builder.errors import ContactEventsError, PipelineError
from builder.warehouse.base import Warehouse

# --------------------------------------------------------------------------- findings

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

    def to_dict(self) -> dict[str, Any]:
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
            "findings": [f.to_dict() for f in self.findings[:20]],
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


# --------------------------------------------------------------------------- timestamps

# The contract's grammar decides what is valid; this one (ASCII digits only, as in the
# SQL engines' RE2) only takes a valid value apart.
_TS_PARTS = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?"
    r"(Z|[+-]\d{2}:\d{2})?",
    re.ASCII,
)
_EPOCH = datetime(1970, 1, 1)  # naive: UTC arithmetic
_MIN_US = -62135596800 * 1_000_000  # 0001-01-01T00:00:00Z
_MAX_US = 253402300799 * 1_000_000 + 999_999  # 9999-12-31T23:59:59.999999Z


def trim(value: str | None) -> str | None:
    """Surrounding whitespace (contract.TRIM_CHARS) off; '' or blank is None."""
    if value is None:
        return None
    value = value.strip(c.TRIM_CHARS)
    return value or None


def parse_instant(text: str) -> int | None:
    """A trimmed, non-empty timestamp -> microseconds since the epoch (UTC), None if bad."""
    if c.TIMESTAMP_RE.fullmatch(text) is None:
        return None
    m = _TS_PARTS.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, frac, tz = m.groups()
    try:
        if hour is not None:
            dt = datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second),
                int(frac.ljust(6, "0")) if frac else 0,
            )
        else:
            dt = datetime(int(year), int(month), int(day))
    except ValueError:
        return None
    delta = dt - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if tz and tz != "Z":
        hours, minutes = int(tz[1:3]), int(tz[4:6])
        if hours > 23 or minutes > 59:
            return None
        offset = (hours * 60 + minutes) * 60_000_000
        micros = micros - offset if tz[0] == "+" else micros + offset
    if micros < _MIN_US or micros > _MAX_US:
        return None
    return micros


def _civil(days: int) -> tuple[int, int, int]:
    """Days since 1970-01-01 -> proleptic Gregorian (year, month, day), any year
    (H. Hinnant's algorithm): a ledger value outside Python's years 1-9999 still prints."""
    days += 719_468
    era = days // 146_097
    doe = days - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def mirror_text(micros: int) -> str:
    """The mirror's `YYYY-MM-DD HH:MM:SS.ffffff` form of an instant."""
    days, rest = divmod(micros, 86_400_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    year, month, day = _civil(days)
    return f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}.{fraction:06d}"


def _iso(micros: int | None) -> str | None:
    if micros is None:
        return None
    return mirror_text(micros).replace(" ", "T") + "Z"


# --------------------------------------------------------------------------- mapping


def _s(value: str | None) -> str | None:
    return None if value == "" else value


def _intern(value: str | None) -> str | None:
    """'' as null; a repeated value (a status, a measure) kept once in memory."""
    return None if value is None or value == "" else sys.intern(value)


def norm_email(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip(c.TRIM_CHARS).lower()
    return value or None


# A candidate row of one source, after mapping:
# (created_us, event_name, event_source, timestamp_raw, source_contact_id, email_norm,
#  payload_values, created_at_raw)
Candidate = tuple[Any, ...]
C_CREATED, C_NAME, C_SOURCE, C_TS, C_CONTACT, C_EMAIL, C_PAYLOAD, C_CREATED_RAW = range(8)


@dataclass(frozen=True)
class SourceSpec:
    table: str
    system: str
    id_column: str
    event_type: str
    columns: tuple[str, ...]  # read from the canonical table, id first
    payload_keys: tuple[str, ...]  # sorted
    map_row: Callable[[tuple[Any, ...], frozenset[str]], Candidate]


def _created(raw: str | None) -> tuple[int | None, str | None]:
    raw = trim(raw)
    return (None if raw is None else parse_instant(raw)), raw


def _map_form(row: tuple[Any, ...], practice: frozenset[str]) -> Candidate:
    _, subject, measure, m_version, b_id, b_version, form_id, sub_id, ts, created = row
    created_us, created_raw = _created(created)
    payload = (_s(b_id), _s(b_version), _s(form_id), _s(sub_id), _s(m_version))
    return (
        created_us,
        _intern(measure),
        "google_form",
        trim(ts),
        None,
        norm_email(subject),
        payload,
        created_raw,
    )


def _map_session(row: tuple[Any, ...], practice: frozenset[str]) -> Candidate:
    _, contact_id, status, session_num, idem_key, started, ended, created = row
    created_us, created_raw = _created(created)
    ts = trim(started) or trim(ended) or created_raw
    payload = (_s(idem_key), session_num)
    return (
        created_us,
        _intern(status),
        "dataverse",
        ts,
        _s(contact_id),
        None,
        payload,
        created_raw,
    )


def _map_email(row: tuple[Any, ...], practice: frozenset[str]) -> Candidate:
    _, provider, from_email, to_emails, subject, thread_id, labels, sent_at, created = row
    created_us, created_raw = _created(created)
    sender = norm_email(from_email)
    if sender is not None and sender in practice:
        direction = "outbound"
        identity = norm_email(to_emails[0]) if to_emails else None
    else:
        direction = "inbound"
        identity = sender
    subject = _s(subject)
    name = f"{direction}: " + (
        subject[: c.EMAIL_SUBJECT_CHARS] if subject is not None else c.NO_SUBJECT
    )
    payload = (direction, labels, subject, _s(thread_id))
    return (
        created_us,
        name,
        _intern(provider),
        trim(sent_at),
        None,
        identity,
        payload,
        created_raw,
    )


def _map_message(row: tuple[Any, ...], practice: frozenset[str]) -> Candidate:
    _, channel, direction, contact_id, contact_email, body, sent_at, created = row
    created_us, created_raw = _created(created)
    d = (direction or "").strip(c.TRIM_CHARS).lower()
    if d not in ("outbound", "inbound"):
        d = "unknown"
    name = sys.intern(f"{d}: {channel or 'unknown'}")
    payload = (_s(body), _s(channel), _s(direction))
    return (
        created_us,
        name,
        "respond_io",
        trim(sent_at),
        _s(contact_id),
        norm_email(contact_email),
        payload,
        created_raw,
    )


def _map_system(row: tuple[Any, ...], practice: frozenset[str]) -> Candidate:
    _, contact_id, contact_email, event_name, actor, occurred_at, created = row
    created_us, created_raw = _created(created)
    return (
        created_us,
        _intern(event_name),
        "life_cli",
        trim(occurred_at),
        _s(contact_id),
        norm_email(contact_email),
        (_s(actor),),
        created_raw,
    )


def _spec(table: str, event_type: str, columns: tuple[str, ...], keys, fn) -> SourceSpec:
    system, id_column = c.SOURCES[table]
    assert columns[0] == id_column and set(columns) <= set(c.CANONICAL_TABLES[table])
    assert tuple(sorted(keys)) == tuple(keys)
    return SourceSpec(table, system, id_column, event_type, columns, tuple(keys), fn)


SPECS: tuple[SourceSpec, ...] = (
    _spec(
        "measurement_events",
        "form",
        (
            "measurement_event_id",
            "subject_id",
            "measure_id",
            "measure_version",
            "binding_id",
            "binding_version",
            "form_id",
            "form_submission_id",
            "timestamp",
            "created_at",
        ),
        ("binding_id", "binding_version", "form_id", "form_submission_id", "measure_version"),
        _map_form,
    ),
    _spec(
        "clinical_sessions",
        "session",
        (
            "session_id",
            "contact_id",
            "status",
            "session_num",
            "idem_key",
            "started_at",
            "ended_at",
            "created_at",
        ),
        ("idem_key", "session_num"),
        _map_session,
    ),
    _spec(
        "email_events",
        "email",
        (
            "email_event_id",
            "provider",
            "from_email",
            "to_emails",
            "subject",
            "thread_id",
            "labels",
            "sent_at",
            "created_at",
        ),
        ("direction", "labels", "subject", "thread_id"),
        _map_email,
    ),
    _spec(
        "messages",
        "message",
        (
            "message_id",
            "channel",
            "direction",
            "contact_id",
            "contact_email",
            "body_preview",
            "sent_at",
            "created_at",
        ),
        ("body_preview", "channel", "direction"),
        _map_message,
    ),
    _spec(
        "system_events",
        "system",
        (
            "system_event_id",
            "contact_id",
            "contact_email",
            "event_name",
            "actor",
            "occurred_at",
            "created_at",
        ),
        ("actor",),
        _map_system,
    ),
)
assert {s.table for s in SPECS} == set(c.SOURCES)


def _none_first(value: str | None) -> tuple[int, str]:
    return (0, "") if value is None else (1, value)


def payload_text(payload: dict[str, Any]) -> str:
    """The canonical payload text: sorted keys, compact, UTF-8 (not \\u-escaped)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _tie_key(spec: SourceSpec, cand: Candidate) -> tuple[tuple[int, str], ...]:
    return (
        _none_first(cand[C_NAME]),
        _none_first(cand[C_SOURCE]),
        _none_first(cand[C_TS]),
        _none_first(cand[C_CONTACT]),
        _none_first(cand[C_EMAIL]),
        _none_first(payload_text(dict(zip(spec.payload_keys, cand[C_PAYLOAD], strict=True)))),
        _none_first(cand[C_CREATED_RAW]),
    )


def _wins(spec: SourceSpec, new: Candidate, old: Candidate) -> bool:
    """Does `new` replace `old` as the record's surviving row?"""
    a, b = new[C_CREATED], old[C_CREATED]
    if a != b:
        if a is None:
            return False
        if b is None:
            return True
        return a > b
    return _tie_key(spec, new) < _tie_key(spec, old)


# --------------------------------------------------------------------------- contacts

CONTACT_COLUMNS = tuple(c.CANONICAL_TABLES["contacts"])  # contact_id first


@dataclass
class Contacts:
    rows: dict[str, tuple[Any, ...]]  # contact_id -> expected proj_contacts row
    ids: dict[str, str]  # contact_id -> the same string (one object per contact)
    email: dict[str, str | None]  # contact_id -> normalised email
    by_email: dict[str, list[str]]  # normalised email -> contact ids
    duplicates: int = 0


def _contact_wins(new: tuple[Any, ...], old: tuple[Any, ...]) -> bool:
    a, b = new[0], old[0]
    if a != b:
        if a is None:
            return False
        if b is None:
            return True
        return a > b
    return tuple(_none_first(v) for v in new[1]) < tuple(_none_first(v) for v in old[1])


def reference_contacts(warehouse: Warehouse) -> Contacts:
    best: dict[str, tuple[Any, ...]] = {}
    rows = 0
    for values in _stream(warehouse, "contacts", CONTACT_COLUMNS):
        contact_id = values[0]
        if contact_id is None or contact_id == "":
            continue
        rows += 1
        rest = tuple(_s(v) for v in values[1:])  # email .. updated_at, '' as null
        ts = trim(rest[-1])
        cand = (None if ts is None else parse_instant(ts), rest)
        old = best.get(contact_id)
        if old is None or _contact_wins(cand, old):
            best[contact_id] = cand
    out = Contacts(
        rows={}, ids={}, email={}, by_email=defaultdict(list), duplicates=rows - len(best)
    )
    for contact_id, (_, rest) in best.items():
        out.rows[contact_id] = (contact_id, *rest)
        out.ids[contact_id] = contact_id
        email = norm_email(rest[0])
        out.email[contact_id] = email
        if email is not None:
            out.by_email[email].append(contact_id)
    out.by_email = dict(out.by_email)
    return out


# --------------------------------------------------------------------------- reference


# An outcome per logical record, one flat tuple (memory: a million of them):
#   a ledger row: (contact_id, contact_email, event_name, event_source, ts_us, payload,
#                  reason) with reason None, or "orphan" (kept and reported);
#   a rejected record: (reason, related), related = the contacts it is about (its
#                  contact_id, else its email's contacts), for `contacts=` / `sample=`.
Outcome = tuple[Any, ...]


def _row(outcome: Outcome) -> Outcome | None:
    """The ledger row (first six fields) of a record, None if it is rejected."""
    return outcome if len(outcome) == 7 else None


def _reason(outcome: Outcome) -> str | None:
    return outcome[6] if len(outcome) == 7 else outcome[0]


def _resolve(cand: Candidate, contacts: Contacts) -> Outcome:
    contact_id, email = cand[C_CONTACT], cand[C_EMAIL]
    related = _cand_related(cand, contacts)
    ts_raw = cand[C_TS]
    if ts_raw is None:
        return ("missing_timestamp", related)
    ts = parse_instant(ts_raw)
    if ts is None:
        return ("bad_timestamp", related)
    reason = None
    if contact_id is not None:
        known = contacts.ids.get(contact_id)
        if known is None:
            return ("unknown_contact_id", related)
        contact_id = known  # the contacts' own string object: one per contact in memory
        contact_email = email if email is not None else contacts.email[contact_id]
    elif email is not None:
        matches = contacts.by_email.get(email, ())
        if len(matches) > 1:
            return ("ambiguous_email", related)
        if matches:
            contact_id = matches[0]
            contact_email = contacts.email[contact_id]  # equal to `email`, shared
        else:
            contact_email, reason = email, "orphan"
    else:
        contact_email, reason = None, "orphan"
    return (contact_id, contact_email, cand[C_NAME], cand[C_SOURCE], ts, cand[C_PAYLOAD], reason)


def _related(outcome: Outcome) -> tuple[str, ...]:
    if len(outcome) == 7:
        return () if outcome[0] is None else (outcome[0],)
    return outcome[1]


def _stream(warehouse: Warehouse, table: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    if not warehouse.table_exists(table):
        return
    for batch in warehouse.read_batches(table, list(columns)):
        yield from zip(*(col.to_pylist() for col in batch.columns), strict=True)


@dataclass
class Reference:
    """The reference ledger of one source: outcome per record id, plus id-less rows."""

    spec: SourceSpec
    outcomes: dict[str, Outcome]
    rows: int = 0
    missing_ids: list[tuple[str, ...]] = field(default_factory=list)  # related, per row


def reference_source(
    warehouse: Warehouse, spec: SourceSpec, contacts: Contacts, practice: frozenset[str]
) -> Reference:
    best: dict[str, Candidate] = {}
    ref = Reference(spec, {})
    map_row = spec.map_row
    for values in _stream(warehouse, spec.table, spec.columns):
        ref.rows += 1
        cand = map_row(values, practice)
        record_id = values[0]
        if record_id is None or record_id == "":
            ref.missing_ids.append(_cand_related(cand, contacts))
            continue
        old = best.get(record_id)
        if old is None or _wins(spec, cand, old):
            best[record_id] = cand
    for record_id, cand in best.items():  # in place: values only, no second dict
        best[record_id] = _resolve(cand, contacts)
    ref.outcomes = best
    return ref


def _cand_related(cand: Candidate, contacts: Contacts) -> tuple[str, ...]:
    """The contacts a source row is about: its contact_id, else its email's contacts."""
    if cand[C_CONTACT] is not None:
        return (cand[C_CONTACT],)
    if cand[C_EMAIL] is not None:
        return tuple(contacts.by_email.get(cand[C_EMAIL], ()))
    return ()


# --------------------------------------------------------------------------- comparison


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same JSON types (True is not 1, 1 is not 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


class _Mirror:
    def __init__(self, path: Path):
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        self.con = sqlite3.connect(uri, uri=True)

    def tables(self) -> set[str]:
        return {r[0] for r in self.con.execute("SELECT name FROM sqlite_master WHERE type='table'")}

    def close(self) -> None:
        self.con.close()


class _Run:
    """One validation: reference per source, compared with each target."""

    def __init__(
        self,
        warehouse: Warehouse,
        settings: Settings,
        mirror_path: Path | None,
        selection: list[str] | None,
        keep_timelines: bool,
        max_findings: int,
    ):
        self.wh = warehouse
        self.practice = frozenset(settings.practice_emails)
        self.mirror = _Mirror(mirror_path) if mirror_path is not None else None
        self.selection = None if selection is None else set(selection)
        self.result = ValidationResult(
            targets=[WAREHOUSE] + ([MIRROR] if self.mirror else []),
            selection=selection,
            max_findings=max_findings,
        )
        if keep_timelines and selection is not None:
            for cid in selection:
                self.result.timelines[cid] = ContactTimeline(
                    cid,
                    ledger={t: [] for t in self.result.targets},
                    ledger_rejects={t: [] for t in self.result.targets},
                )
        self.available: dict[str, bool] = {}

    # ---- scope -------------------------------------------------------------------
    def in_scope(self, related: Iterable[str], ledger_contact: str | None = None) -> bool:
        if self.selection is None:
            return True
        if ledger_contact is not None and ledger_contact in self.selection:
            return True
        return any(cid in self.selection for cid in related)

    def add(
        self,
        target: str,
        kind: str,
        system: str | None,
        record_id: str | None,
        contact: str | None,
        fld: str | None = None,
        expected: Any = None,
        actual: Any = None,
    ) -> None:
        self.result.add(Finding(target, kind, system, record_id, contact, fld, expected, actual))

    # ---- readers -----------------------------------------------------------------
    def _table_ok(self, target: str, table: str) -> bool:
        key = f"{target}:{table}"
        if key not in self.available:
            if target == WAREHOUSE:
                ok = self.wh.table_exists(table)
            else:
                assert self.mirror is not None
                ok = table in self.mirror.tables()
            self.available[key] = ok
            if not ok:
                self.add(target, TABLE_MISSING, None, None, None, "table", table, None)
        return self.available[key]

    def ledger_rows(self, target: str, systems: Sequence[str], known: bool = True):
        """(contact_id, contact_email, event_type, event_name, event_source, ts,
        source_system, source_record_id, payload) of the given source systems (or, with
        known=False, of every other source system). ts: int µs (warehouse) or text."""
        table = c.LEDGER_TABLE if target == WAREHOUSE else c.MIRROR_LEDGER
        if not self._table_ok(target, table):
            return
        if target == MIRROR:
            assert self.mirror is not None
            marks = ", ".join("?" * len(systems))
            where = (
                f"source_system IN ({marks})"
                if known
                else f"source_system IS NULL OR source_system NOT IN ({marks})"
            )
            cols = ", ".join(c.LEDGER_COLUMNS)
            yield from self.mirror.con.execute(
                f"SELECT {cols} FROM {table} WHERE {where}", list(systems)
            )
            return
        wanted = pa.array(list(systems), pa.string())
        for batch in self.wh.read_batches(table, list(c.LEDGER_COLUMNS)):
            ss = batch.column(6)
            mask = pc.fill_null(pc.is_in(ss, value_set=wanted), False)
            if not known:
                mask = pc.invert(mask)  # other systems, and a null source_system
            batch = batch.filter(mask)
            if not batch.num_rows:
                continue
            columns = [
                self._ts_micros(col) if i == 5 else col.to_pylist()
                for i, col in enumerate(batch.columns)
            ]
            yield from zip(*columns, strict=True)

    def _ts_micros(self, col: pa.Array) -> list[Any]:
        if pa.types.is_timestamp(col.type):
            if col.type.tz is None:
                if not getattr(self, "_naive_flagged", False):
                    self._naive_flagged = True
                    self.add(
                        WAREHOUSE,
                        COLUMN_TYPE,
                        None,
                        None,
                        None,
                        "event_timestamp",
                        "timestamp with time zone",
                        str(col.type),
                    )
                col = col.cast(pa.timestamp("us"))
            else:
                col = col.cast(pa.timestamp("us", tz="UTC"))
            return col.cast(pa.int64()).to_pylist()
        if not getattr(self, "_type_flagged", False):
            self._type_flagged = True
            self.add(
                WAREHOUSE,
                COLUMN_TYPE,
                None,
                None,
                None,
                "event_timestamp",
                "timestamp with time zone",
                str(col.type),
            )
        out = []
        for v in col.to_pylist():
            t = trim(v) if isinstance(v, str) else None
            out.append(parse_instant(t) if t else None)
        return out

    def reject_rows(self, target: str) -> dict[str | None, dict[str | None, list[tuple]]]:
        """source_system -> source_record_id -> [(severity, reason), ...]."""
        table = c.REJECTS_TABLE if target == WAREHOUSE else c.MIRROR_REJECTS
        out: dict[str | None, dict[str | None, list[tuple]]] = {}
        if not self._table_ok(target, table):
            return out
        cols = ("source_system", "source_record_id", "severity", "reason")
        if target == MIRROR:
            assert self.mirror is not None
            rows: Iterable[tuple] = self.mirror.con.execute(
                f"SELECT {', '.join(cols)} FROM {table}"
            )
        else:
            rows = _stream(self.wh, table, cols)
        for system, record_id, severity, reason in rows:
            out.setdefault(system, {}).setdefault(record_id, []).append((severity, reason))
        return out

    def contact_rows(self, target: str) -> Iterable[tuple]:
        table = c.CONTACTS_TABLE if target == WAREHOUSE else c.MIRROR_CONTACTS
        if not self._table_ok(target, table):
            return ()
        if target == MIRROR:
            assert self.mirror is not None
            return self.mirror.con.execute(f"SELECT {', '.join(CONTACT_COLUMNS)} FROM {table}")
        return _stream(self.wh, table, CONTACT_COLUMNS)

    # ---- the run -----------------------------------------------------------------
    def run(self) -> ValidationResult:
        started = time.perf_counter()
        result = self.result
        contacts = reference_contacts(self.wh)
        if self.selection is None:
            result.contacts_checked = len(contacts.rows)
        else:
            result.contacts_checked = len(self.selection)
        self.compare_contacts(contacts)
        rejects = {t: self.reject_rows(t) for t in result.targets}
        totals = {"ledger_rows": {}, "rejects_by_reason": Counter(), "duplicates": {}}
        for spec in SPECS:
            ref = reference_source(self.wh, spec, contacts, self.practice)
            self.count_reference(ref, totals)
            for target in result.targets:
                self.compare_ledger(target, ref)
                self.compare_rejects(target, ref, rejects[target].pop(spec.system, {}))
            del ref
        known = [s.system for s in SPECS]
        for target in result.targets:
            for row in self.ledger_rows(target, known, known=False):
                if self.in_scope((), row[0]):
                    self.add(target, UNEXPECTED, row[6], row[7], row[0])
            for system, by_id in rejects[target].items():
                for record_id, found in by_id.items():
                    if self.selection is None:
                        for severity, reason in found:
                            self.add(
                                target,
                                REJECT_UNEXPECTED,
                                system,
                                record_id,
                                None,
                                "reason",
                                None,
                                f"{severity}/{reason}",
                            )
        result.reference = {
            "ledger_rows": totals["ledger_rows"],
            "rejects_by_reason": {r: totals["rejects_by_reason"][r] for r in c.REASONS},
            "duplicates": totals["duplicates"],
            "contacts": len(contacts.rows),
        }
        if self.mirror is not None and self.selection is None:
            self.compare_build_report(result.reference)
        for timeline in result.timelines.values():
            _sort_rows(timeline.reference)
            for rows in timeline.ledger.values():
                _sort_rows(rows)
        if self.mirror is not None:
            self.mirror.close()
        result.seconds = round(time.perf_counter() - started, 3)
        return result

    def count_reference(self, ref: Reference, totals: dict[str, Any]) -> None:
        result, system = self.result, ref.spec.system
        ledger = 0
        for outcome in ref.outcomes.values():
            row, reason = _row(outcome), _reason(outcome)
            if row is not None:
                ledger += 1
            if reason is not None:
                totals["rejects_by_reason"][reason] += 1
            if self.in_scope(_related(outcome)):
                result.records_checked += 1
                result.events_checked += row is not None
                result.rejects_checked += reason is not None
        totals["rejects_by_reason"]["missing_record_id"] += len(ref.missing_ids)
        for related in ref.missing_ids:
            if self.in_scope(related):
                result.records_checked += 1
                result.rejects_checked += 1
        totals["ledger_rows"][system] = ledger
        totals["duplicates"][system] = ref.rows - len(ref.missing_ids) - len(ref.outcomes)

    # ---- contacts ----------------------------------------------------------------
    def compare_contacts(self, contacts: Contacts) -> None:
        for target in self.result.targets:
            seen: set[str] = set()
            for row in self.contact_rows(target):
                cid = row[0]
                if not self.in_scope((), cid):
                    continue
                if cid in seen:
                    self.add(target, DUPLICATE_KEY, "contacts", None, cid, "contact_id", 1, 2)
                    continue
                seen.add(cid)
                expected = contacts.rows.get(cid)
                if expected is None:
                    self.add(target, CONTACT_UNEXPECTED, "contacts", None, cid, None, None, row)
                    continue
                for name, want, got in zip(CONTACT_COLUMNS, expected, row, strict=True):
                    if not _same(want, got):
                        self.add(target, CONTACT_DIFFERS, "contacts", None, cid, name, want, got)
            for cid, expected in contacts.rows.items():
                if cid not in seen and self.in_scope((cid,)):
                    self.add(target, CONTACT_MISSING, "contacts", None, cid, None, expected, None)

    # ---- ledger ------------------------------------------------------------------
    def compare_ledger(self, target: str, ref: Reference) -> None:
        spec, outcomes = ref.spec, ref.outcomes
        system = spec.system
        timelines = self.result.timelines
        pending = dict(outcomes)  # popped when seen: what is left was not in the ledger
        strays: set[str | None] = set()
        mirror = target == MIRROR
        for row in self.ledger_rows(target, (system,)):
            contact, record_id = row[0], row[7]
            outcome = outcomes.get(record_id) if record_id is not None else None
            related = _related(outcome) if outcome is not None else ()
            if not self.in_scope(related, contact):
                continue
            if timelines and contact in timelines:
                timelines[contact].ledger[target].append(_ledger_dict(row, mirror))
            ref_contact = next(iter(related), None) if outcome is not None else None
            who = ref_contact or contact
            if outcome is not None:
                first = pending.pop(record_id, None) is not None
            else:
                first = record_id not in strays
                strays.add(record_id)
            if not first:
                self.add(target, DUPLICATE_KEY, system, record_id, who)
                continue
            want = None if outcome is None else _row(outcome)
            if want is None:
                expected = None if outcome is None else f"reject {_reason(outcome)}"
                self.add(
                    target,
                    UNEXPECTED,
                    system,
                    record_id,
                    who,
                    None,
                    expected,
                    _ledger_dict(row, mirror),
                )
                continue
            self.compare_row(target, spec, record_id, who, want, row)
        for record_id, outcome in pending.items():
            row = _row(outcome)
            if row is None:
                continue
            related = _related(outcome)
            if not self.in_scope(related):
                continue
            self.add(
                target,
                MISSING,
                system,
                record_id,
                row[0],
                None,
                _expected_dict(spec, record_id, row),
                None,
            )
        if target == self.result.targets[0] and timelines:
            for record_id, outcome in outcomes.items():
                row = _row(outcome)
                if row is not None and row[0] in timelines:
                    timelines[row[0]].reference.append(_expected_dict(spec, record_id, row))

    def compare_row(
        self,
        target: str,
        spec: SourceSpec,
        record_id: str,
        who: str | None,
        want: Outcome,
        row: tuple[Any, ...],
    ) -> None:
        """One ledger row against its reference row, field by field (fast path first:
        expected values are str/None, so == is exact; equal payload text is equal JSON)."""
        system = spec.system
        if (want[0], want[1], spec.event_type, want[2], want[3]) != row[:5]:
            for name, a, b in (
                ("contact_id", want[0], row[0]),
                ("contact_email", want[1], row[1]),
                ("event_type", spec.event_type, row[2]),
                ("event_name", want[2], row[3]),
                ("event_source", want[3], row[4]),
            ):
                if not _same(a, b):
                    self.add(target, FIELD_DIFFERS, system, record_id, who, name, a, b)
        if target == MIRROR:
            ts_want, ts_got = mirror_text(want[4]), row[5]
            if ts_want != ts_got:
                self.add(
                    target,
                    FIELD_DIFFERS,
                    system,
                    record_id,
                    who,
                    "event_timestamp",
                    ts_want,
                    ts_got,
                )
        elif want[4] != row[5]:
            self.add(
                target,
                FIELD_DIFFERS,
                system,
                record_id,
                who,
                "event_timestamp",
                _iso(want[4]),
                _iso(row[5]),
            )
        expected = dict(zip(spec.payload_keys, want[5], strict=True))
        got = row[8]
        if got == payload_text(expected):
            return
        try:
            parsed = json.loads(got) if isinstance(got, str) else None
        except ValueError:
            parsed = None
        if parsed is None or not _same(expected, parsed):
            actual = parsed if parsed is not None else got
            self.add(target, FIELD_DIFFERS, system, record_id, who, "payload", expected, actual)
        else:  # the same object, not in the canonical text form
            self.add(
                target,
                PAYLOAD_NOT_CANONICAL,
                system,
                record_id,
                who,
                "payload",
                payload_text(parsed),
                got,
            )

    # ---- rejects -----------------------------------------------------------------
    def compare_rejects(
        self, target: str, ref: Reference, found: dict[str | None, list[tuple]]
    ) -> None:
        system, outcomes = ref.spec.system, ref.outcomes
        timelines = self.result.timelines
        for record_id, rows in found.items():
            if record_id is None:
                continue
            outcome = outcomes.get(record_id)
            related = tuple(_related(outcome)) if outcome is not None else ()
            if self.selection is not None and (outcome is None or not self.in_scope(related)):
                continue
            who = related[0] if related else None
            for cid in related:
                if cid in timelines:
                    for severity, reason in rows:
                        timelines[cid].ledger_rejects[target].append(
                            _reject_dict(system, record_id, severity, reason)
                        )
            if len(rows) > 1:
                self.add(target, DUPLICATE_KEY, system, record_id, who, "rejects", 1, len(rows))
            severity, reason = rows[0]
            want = _reason(outcome) if outcome is not None else None
            if want is None:
                self.add(
                    target,
                    REJECT_UNEXPECTED,
                    system,
                    record_id,
                    who,
                    "reason",
                    None,
                    f"{severity}/{reason}",
                )
                continue
            if reason != want:
                self.add(target, REJECT_DIFFERS, system, record_id, who, "reason", want, reason)
            want_severity = _severity(want)
            if severity != want_severity:
                self.add(
                    target,
                    REJECT_DIFFERS,
                    system,
                    record_id,
                    who,
                    "severity",
                    want_severity,
                    severity,
                )
        for record_id, outcome in outcomes.items():
            want = _reason(outcome)
            if want is None:
                continue
            related = tuple(_related(outcome))
            if not self.in_scope(related):
                continue
            if target == self.result.targets[0]:
                for cid in related:
                    if cid in timelines:
                        timelines[cid].reference_rejects.append(
                            _reject_dict(system, record_id, _severity(want), want)
                        )
            if record_id not in found:
                self.add(
                    target,
                    REJECT_MISSING,
                    system,
                    record_id,
                    related[0] if related else None,
                    "reason",
                    want,
                    None,
                )
        # id-less rows: one missing_record_id reject each, compared as counts.
        if self.selection is not None:
            return
        got = Counter(found.get(None, ()))
        want_key = (_severity("missing_record_id"), "missing_record_id")
        expected = len(ref.missing_ids)
        actual = got.pop(want_key, 0)
        if actual < expected:
            for _ in range(expected - actual):
                self.add(
                    target, REJECT_MISSING, system, None, None, "reason", "missing_record_id", None
                )
        elif actual > expected:
            for _ in range(actual - expected):
                self.add(
                    target,
                    REJECT_UNEXPECTED,
                    system,
                    None,
                    None,
                    "reason",
                    None,
                    "error/missing_record_id",
                )
        for (severity, reason), n in got.items():
            for _ in range(n):
                self.add(
                    target,
                    REJECT_UNEXPECTED,
                    system,
                    None,
                    None,
                    "reason",
                    None,
                    f"{severity}/{reason}",
                )

    # ---- build report (mirror ledger_builds) ---------------------------------------
    def compare_build_report(self, reference: dict[str, Any]) -> None:
        assert self.mirror is not None
        if not self._table_ok(MIRROR, c.MIRROR_BUILDS):
            return
        cur = self.mirror.con.execute(
            f"SELECT * FROM {c.MIRROR_BUILDS} ORDER BY rowid DESC LIMIT 1"
        )
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
        if row is None:
            self.add(MIRROR, BUILD_REPORT_DIFFERS, None, None, None, "ledger_builds", "1 row", None)
            return
        build = dict(zip(names, row, strict=True))
        checks: list[tuple[str, Any, Any]] = []
        for column, key in (
            ("rows_by_source", "ledger_rows"),
            ("rejects_by_reason", "rejects_by_reason"),
            ("duplicates_by_source", "duplicates"),
        ):
            if column in build:
                try:
                    got = json.loads(build[column]) if build[column] is not None else None
                except ValueError:
                    got = build[column]
                checks.append((column, reference[key], got))
        totals = {
            "ledger_rows": sum(reference["ledger_rows"].values()),
            "rejects_rows": sum(reference["rejects_by_reason"].values()),
            "contacts_rows": reference["contacts"],
        }
        for column, want in totals.items():
            if column in build:
                checks.append((column, want, build[column]))
        for column, want, got in checks:
            if isinstance(want, dict) and isinstance(got, dict):
                want = {k: v for k, v in want.items() if v}
                got = {k: v for k, v in got.items() if v}
            if want != got:
                self.add(MIRROR, BUILD_REPORT_DIFFERS, None, None, None, column, want, got)


def _severity(reason: str) -> str:
    return "warning" if reason in c.WARNING_REASONS else "error"


def _expected_dict(spec: SourceSpec, record_id: str, row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "contact_id": row[0],
        "contact_email": row[1],
        "event_type": spec.event_type,
        "event_name": row[2],
        "event_source": row[3],
        "event_timestamp": _iso(row[4]),
        "source_system": spec.system,
        "source_record_id": record_id,
        "payload": dict(zip(spec.payload_keys, row[5], strict=True)),
        "_ts": row[4],
    }


def _ledger_dict(row: tuple[Any, ...], mirror: bool) -> dict[str, Any]:
    out = dict(zip(c.LEDGER_COLUMNS, row, strict=True))
    ts = row[5]
    if mirror:
        t = trim(ts) if isinstance(ts, str) else None
        out["_ts"] = parse_instant(t) if t else None
    else:
        out["_ts"] = ts
        out["event_timestamp"] = _iso(ts)
    return out


def _reject_dict(system: str, record_id: str | None, severity: str, reason: str) -> dict:
    return {
        "source_system": system,
        "source_record_id": record_id,
        "severity": severity,
        "reason": reason,
    }


def _sort_rows(rows: list[dict[str, Any]]) -> None:
    """Newest first; ties by source_system then source_record_id (CONTRACT §5)."""
    rows.sort(key=lambda r: (r["source_system"] or "", r["source_record_id"] or ""))
    rows.sort(key=lambda r: r["_ts"] if r["_ts"] is not None else _MIN_US - 1, reverse=True)


# --------------------------------------------------------------------------- public API


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
) -> ValidationResult:
    """Rebuild the ledger from the raw canonicals in Python and compare it with the
    warehouse projection and (if `mirror_path`) the SQLite mirror.

    `contacts`: only these contact ids (their events and rejects); their reference and
    ledger rows are kept in `result.timelines` for `render_timeline`. `sample`: N random
    contacts (seeded by `seed`). Default: everything, orphans and rejects included.
    """
    selection = select_contacts(warehouse, contacts, sample, seed)
    if mirror_path is not None and not Path(mirror_path).exists():
        raise ContactEventsError(f"no mirror at {mirror_path}")
    run = _Run(
        warehouse,
        settings,
        Path(mirror_path) if mirror_path is not None else None,
        selection,
        keep_timelines=bool(contacts),
        max_findings=max_findings,
    )
    return run.run()


def check_mirror(warehouse: Warehouse, settings: Settings) -> Callable[[Path], dict[str, Any]]:
    """The `check` hook for `builder.pipeline.rebuild`: validates the finished, not yet
    swapped mirror file against the warehouse; raises PipelineError when they differ."""

    def check(mirror: Path) -> dict[str, Any]:
        result = validate(warehouse, settings, mirror)
        if not result.ok:
            raise PipelineError(f"{result.summary()}; mirror not replaced")
        return result.to_dict()

    return check


# --------------------------------------------------------------------------- rendering


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

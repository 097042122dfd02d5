"""The comparison: one run reads the warehouse projection and the SQLite mirror and checks
them, source by source, against the reference ledger, into a `ValidationResult`."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..core import contract as c
from ..core.config import Settings
from ..engine.base import Warehouse
from ..mirror.store import connect_read_only
from .findings import (
    BUILD_REPORT_DIFFERS,
    COLUMN_TYPE,
    CONTACT_DIFFERS,
    CONTACT_MISSING,
    CONTACT_UNEXPECTED,
    DUPLICATE_KEY,
    FIELD_DIFFERS,
    MIRROR,
    MISSING,
    PAYLOAD_NOT_CANONICAL,
    REJECT_DIFFERS,
    REJECT_MISSING,
    REJECT_UNEXPECTED,
    TABLE_MISSING,
    UNEXPECTED,
    WAREHOUSE,
    ContactTimeline,
    Finding,
    ValidationResult,
)
from .mapping import SourceSpec, payload_text
from .reference import (
    CONTACT_COLUMNS,
    Contacts,
    Outcome,
    Reference,
    _reason,
    _related,
    _row,
    _stream,
    reference_contacts,
    reference_source,
)
from .sources import ReferenceSources
from .timestamps import _MIN_US, _iso, mirror_text, parse_instant, trim


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
        self.con = connect_read_only(path)

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
        sources: ReferenceSources,
        mirror_path: Path | None,
        selection: list[str] | None,
        keep_timelines: bool,
        max_findings: int,
    ):
        self.wh = warehouse
        self.practice = frozenset(settings.practice_emails)
        self.sources = sources
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
                self._flag_ts_type("_naive_flagged", col)
                col = col.cast(pa.timestamp("us"))
            else:
                col = col.cast(pa.timestamp("us", tz="UTC"))
            return col.cast(pa.int64()).to_pylist()
        self._flag_ts_type("_type_flagged", col)
        out = []
        for v in col.to_pylist():
            t = trim(v) if isinstance(v, str) else None
            out.append(parse_instant(t) if t else None)
        return out

    def _flag_ts_type(self, flag: str, col: pa.Array) -> None:
        """Report a ledger event_timestamp of the wrong type once per kind (`flag`)."""
        if getattr(self, flag, False):
            return
        setattr(self, flag, True)
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
        result.scope = self.sources.scope
        contact_rows = self.sources.contacts(self.wh) if self.sources.contacts else None
        contacts = reference_contacts(self.wh, contact_rows)
        if self.selection is None:
            result.contacts_checked = len(contacts.rows)
        else:
            result.contacts_checked = len(self.selection)
        self.compare_contacts(contacts)
        rejects = {t: self.reject_rows(t) for t in result.targets}
        totals = {"ledger_rows": {}, "rejects_by_reason": Counter(), "duplicates": {}}
        for spec in self.sources.specs:
            ref = reference_source(self.wh, spec, contacts, self.practice)
            self.count_reference(ref, totals)
            for target in result.targets:
                self.compare_ledger(target, ref)
                self.compare_rejects(target, ref, rejects[target].pop(spec.system, {}))
            del ref
        known = [s.system for s in self.sources.specs]
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
        expected = spec.payload_dict(want[5])
        got = row[8]
        if got == spec.payload_text(want[5]):
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
        "payload": spec.payload_dict(row[5]),
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

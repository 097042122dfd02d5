"""The reference ledger, streamed from the raw canonicals: the deduplicated contacts, and
per source each record's outcome (a ledger row, an orphan or a reject reason, CONTRACT
§3). Independent of the SQL path: only contract constants and the warehouse interface."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core import contract as c
from ..engine.base import Warehouse
from .mapping import (
    C_CONTACT,
    C_EMAIL,
    C_NAME,
    C_PAYLOAD,
    C_SOURCE,
    C_TS,
    Candidate,
    SourceSpec,
    _none_first,
    _s,
    _wins,
    later_wins,
    norm_email,
)
from .timestamps import parse_instant, trim

# --------------------------------------------------------------------------- contacts

CONTACT_COLUMNS = c.CONTACT_COLUMNS  # contact_id first


@dataclass
class Contacts:
    rows: dict[str, tuple[Any, ...]]  # contact_id -> expected proj_contacts row
    ids: dict[str, str]  # contact_id -> the same string (one object per contact)
    email: dict[str, str | None]  # contact_id -> normalised email
    by_email: dict[str, list[str]]  # normalised email -> contact ids
    duplicates: int = 0


def _contact_wins(new: tuple[Any, ...], old: tuple[Any, ...]) -> bool:
    later = later_wins(new[0], old[0])
    if later is not None:
        return later
    return tuple(_none_first(v) for v in new[1]) < tuple(_none_first(v) for v in old[1])


def reference_contacts(
    warehouse: Warehouse, rows: Iterable[tuple[Any, ...]] | None = None
) -> Contacts:
    """The deduplicated contacts, from `rows` (CONTACT_COLUMNS order, as the profile reads
    them) or else the flat profile's `contacts` table."""
    if rows is None:
        rows = _stream(warehouse, "contacts", CONTACT_COLUMNS)
    best: dict[str, tuple[Any, ...]] = {}
    seen = 0
    for values in rows:
        contact_id = values[0]
        if contact_id is None or contact_id == "":
            continue
        seen += 1
        rest = tuple(_s(v) for v in values[1:])  # email .. updated_at, '' as null
        ts = trim(rest[-1])
        cand = (None if ts is None else parse_instant(ts), rest)
        old = best.get(contact_id)
        if old is None or _contact_wins(cand, old):
            best[contact_id] = cand
    out = Contacts(
        rows={}, ids={}, email={}, by_email=defaultdict(list), duplicates=seen - len(best)
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


# --------------------------------------------------------------------------- outcomes


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
    rows = spec.stream(warehouse) if spec.stream else _stream(warehouse, spec.table, spec.columns)
    for values in rows:
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

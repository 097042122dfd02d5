"""Each canonical source mapped to candidate ledger rows (CONTRACT §2), one `SourceSpec`
per source in `SPECS`, and which of a record's duplicates wins. Reads no table."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from builder import contract as c
from builder.validate.timestamps import parse_instant, trim


def _s(value: str | None) -> str | None:
    return None if value == "" else value


def _intern(value: str | None) -> str | None:
    """'' as null; a repeated value (a status, a measure) kept once in memory."""
    return None if value is None or value == "" else sys.intern(value)


def norm_email(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip(c.TRIM_CHARS).translate(c.ASCII_LOWER)  # A-Z only (README "Emails")
    return value or None


# A candidate row of one source, after mapping:
# (created_us, event_name, event_source, timestamp_raw, source_contact_id, email_norm,
#  payload_values, created_at_raw[, orphan_detail])
Candidate = tuple[Any, ...]
C_CREATED, C_NAME, C_SOURCE, C_TS, C_CONTACT, C_EMAIL, C_PAYLOAD, C_CREATED_RAW = range(8)
C_ORPHAN_DETAIL = 8  # only where a source says why a row has no identity (README "Profiles")


@dataclass(frozen=True)
class SourceSpec:
    """One source of the reference ledger: where its rows come from and how each maps.

    `stream` (when set) yields the rows `map_row` takes, the record id first; otherwise
    `columns` of the canonical `table` are read. `payload_keys` (sorted) name the payload
    values a candidate holds; None: the candidate holds the payload's JSON text as staged
    (a practice's own source files, whose payload keys this path cannot know)."""

    table: str
    system: str
    id_column: str
    event_type: str
    columns: tuple[str, ...]  # read from the canonical table, id first
    payload_keys: tuple[str, ...] | None
    map_row: Callable[[tuple[Any, ...], frozenset[str]], Candidate]
    stream: Callable[[Any], Iterator[tuple[Any, ...]]] | None = None

    def payload_dict(self, values: Any) -> Any:
        if self.payload_keys is None:
            return _json_or_text(values)
        return dict(zip(self.payload_keys, values, strict=True))

    def payload_text(self, values: Any) -> str:
        """The payload's text for ordering ties: canonical JSON, or the staged text."""
        if self.payload_keys is None:
            return values if isinstance(values, str) else payload_text(values)
        return payload_text(self.payload_dict(values))


def _json_or_text(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


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
    d = (direction or "").strip(c.TRIM_CHARS).translate(c.ASCII_LOWER)
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
        _none_first(spec.payload_text(cand[C_PAYLOAD])),
        _none_first(cand[C_CREATED_RAW]),
        _none_first(cand[C_ORPHAN_DETAIL] if len(cand) > C_ORPHAN_DETAIL else None),
    )


def later_wins(a: int | None, b: int | None) -> bool | None:
    """Does instant `a` beat `b` (latest wins, a missing one loses)? None on a tie."""
    if a == b:
        return None
    if a is None or b is None:
        return b is None
    return a > b


def _wins(spec: SourceSpec, new: Candidate, old: Candidate) -> bool:
    """Does `new` replace `old` as the record's surviving row?"""
    later = later_wins(new[C_CREATED], old[C_CREATED])
    if later is not None:
        return later
    return _tie_key(spec, new) < _tie_key(spec, old)

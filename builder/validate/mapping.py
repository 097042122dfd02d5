"""Each flat canonical source mapped to candidate ledger rows (CONTRACT §2), and which of a
record's duplicates wins. Reads no table.

`FLAT` is this path's own reading of each source of the flat profile, by its
`source_system`: the columns it reads (the record id first), the payload keys and the
mapping of a row, written in Python apart from the source's SQL. Which table a source
reads and its event type come from the source file's header, as for the build
(builder/validate/sources.py puts the two together); a source this path has no reading
of is checked from the rows it staged (builder/validate/staged.py).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..core import contract as c
from .timestamps import parse_instant, trim


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


@dataclass(frozen=True)
class Meaning:
    """What this path knows of one flat source: the columns it reads, the record id
    first; the payload keys (sorted); how a row maps to a candidate."""

    columns: tuple[str, ...]
    payload_keys: tuple[str, ...]
    map_row: Callable[[tuple[Any, ...], frozenset[str]], Candidate]

    def __post_init__(self) -> None:
        assert tuple(sorted(self.payload_keys)) == self.payload_keys


FLAT: dict[str, Meaning] = {
    "measurement_events": Meaning(
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
    "canonical.clinical_sessions": Meaning(
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
    "canonical.email_events": Meaning(
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
    "canonical.messages": Meaning(
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
    "canonical.system_events": Meaning(
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
}


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

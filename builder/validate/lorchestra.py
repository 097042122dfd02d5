"""The lorchestra layout (CONTRACT §7), read a second time in plain Python.

Nothing here runs or reads the profile's SQL (queries/profiles/lorchestra/): the rows of
`canonical_objects` are streamed raw, their JSON payloads parsed with `json`, and each kind
mapped to candidate ledger rows by the contract's table, so `validate` proves the
lorchestra ledger against the raw canonicals as it proves the flat one.

How payload values are read (the contract's "values are read as in section 1"):
* a text field (`event_name`, ids, emails, timestamps) is the value as text: a string as
  it is, a number or boolean as its JSON text, an object, array or null as missing; `''`
  is missing;
* a payload key of the ledger row keeps its JSON type (a number stays a number); `""` is
  null;
* `session_num` is an integer when the value is a JSON integer or a string of at most 18
  digits (an optional leading `-`), else null;
* TIMESTAMP columns (`created_at`, `occurred_at`, `processed_at`) are instants already;
  their text for ordering ties is RFC 3339 with six fractional digits and `Z`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow.compute as pc

from ..core import contract as c
from .mapping import Candidate, SourceSpec, _intern, _s, later_wins, norm_email
from .timestamps import _iso, trim

KIND = re.compile(r"iglu:org\.canonical/([^/]+)/jsonschema/[^/]+")
SESSION_NUM = re.compile(r"-?[0-9]{1,18}")
OBJECT_COLUMNS = ("idem_key", "source_system", "canonical_schema", "payload", "created_at")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Row = tuple[Any, ...]


def micros(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def text(value: Any) -> str | None:
    """A payload value read as text (JSON_VALUE): scalars only, '' is missing."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value or None
    return json.dumps(value)


def kept(value: Any) -> Any:
    """A payload key of the ledger row: the value with its JSON type; "" is null."""
    return None if value == "" else value


def path(payload: dict[str, Any], *keys: str | int) -> Any:
    """payload[k1][k2]... (`$.from[0].email`), None where the path is not there."""
    value: Any = payload
    for key in keys:
        if isinstance(key, int):
            if not isinstance(value, list) or len(value) <= key:
                return None
        elif not isinstance(value, dict):
            return None
        value = value[key] if isinstance(key, int) else value.get(key)
    return value


def first(*values: str | None) -> str | None:
    """The first non-empty value, trimmed (no fall-through past a non-empty one)."""
    for value in values:
        value = trim(value)
        if value is not None:
            return value
    return None


def session_num(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    as_text = str(value) if isinstance(value, int | str) else None
    return int(as_text) if as_text is not None and SESSION_NUM.fullmatch(as_text) else None


# --------------------------------------------------------------------------- streams


def _of_kind(kind: str) -> Callable[[Any], Iterator[Row]]:
    """The rows of one kind: (idem_key, source_system, canonical_schema, payload dict,
    created_us). Rows are picked by their schema in Arrow (RE2, as in the SQL) before any
    payload is parsed, so each kind's payloads are parsed only by the specs that read it."""
    pattern = f"^{KIND.pattern.replace('([^/]+)', re.escape(kind))}$"

    def stream(warehouse: Any) -> Iterator[Row]:
        if not warehouse.table_exists("canonical_objects"):
            return
        for batch in warehouse.read_batches("canonical_objects", list(OBJECT_COLUMNS)):
            mask = pc.fill_null(pc.match_substring_regex(batch.column(2), pattern), False)
            picked = batch.filter(mask)
            if not picked.num_rows:
                continue
            columns = [col.to_pylist() for col in picked.columns]
            for idem, system, schema, payload, created in zip(*columns, strict=True):
                parsed = json.loads(payload) if isinstance(payload, str) else payload
                if not isinstance(parsed, dict):
                    parsed = {}
                yield (idem, system, schema, parsed, micros(created))

    return stream


def contact_rows(warehouse: Any) -> Iterator[Row]:
    """Contacts in CONTRACT §1's column order, from the `contact` kind's payloads."""
    for _idem, _system, _schema, p, _created in _of_kind("contact")(warehouse):
        yield (
            text(p.get("contact_id")),
            text(p.get("email")),
            text(p.get("first_name")),
            text(p.get("last_name")),
            text(p.get("lifecycleStage")),
            text(p.get("client_type_code")),
            text(p.get("updated_at")),
        )


def _latest(
    rows: Iterator[tuple[str, int | None, str | None]],
) -> dict[str, str | None]:
    """key -> value of the row with the latest created_at; ties: the smaller value (None
    first). Rows are (key, created_us, value)."""
    best: dict[str, tuple[int | None, str | None]] = {}
    for key, created, value in rows:
        old = best.get(key)
        if old is not None:
            later = later_wins(created, old[0])
            if later is False or (later is None and _none_first(value) >= _none_first(old[1])):
                continue
        best[key] = (created, value)
    return {key: value for key, (_, value) in best.items()}


def _none_first(value: str | None) -> tuple[int, str]:
    return (0, "") if value is None else (1, value)


def customer_emails(warehouse: Any) -> dict[str, str | None]:
    """customer_id -> its email (trimmed; None when empty), the latest row per id."""
    return _latest(
        (cid, created, trim(text(p.get("email"))))
        for _i, _s2, _sc, p, created in _of_kind("customer")(warehouse)
        if (cid := text(p.get("customer_id"))) is not None
    )


def payment_customers(warehouse: Any) -> dict[str, str | None]:
    """payment_id -> its customer_id, the latest row per payment_id."""
    return _latest(
        (pid, created, text(p.get("customer_id")))
        for _i, _s2, _sc, p, created in _of_kind("payment")(warehouse)
        if (pid := text(p.get("payment_id"))) is not None
    )


# --------------------------------------------------------------------------- mapping
# Each map_row takes (record_id, <kind's row>) and returns a Candidate
# (created_us, event_name, event_source, timestamp_raw, contact_id, email_norm, payload
#  values in payload_keys order, created_at_raw).


def _objects_by_id(kind: str, id_key: str) -> Callable[[Any], Iterator[Row]]:
    def stream(warehouse: Any) -> Iterator[Row]:
        for row in _of_kind(kind)(warehouse):
            yield (text(row[3].get(id_key)), *row)

    return stream


def _map_session(row: Row, practice: frozenset[str]) -> Candidate:
    _id, idem, _system, _schema, p, created = row
    ts = first(text(p.get("started_at")), text(p.get("created_at")), text(p.get("updated_at")))
    payload = (_s(idem), session_num(p.get("session_num")))
    return (
        created,
        _intern(text(p.get("status"))),
        "dataverse",
        ts,
        text(p.get("contact_id")),
        None,
        payload,
        _iso(created),
    )


def _map_email(row: Row, practice: frozenset[str]) -> Candidate:
    _id, _idem, system, _schema, p, created = row
    sender = norm_email(text(path(p, "from", 0, "email")))
    if sender is not None and sender in practice:
        direction = "outbound"
        identity = norm_email(text(path(p, "to", 0, "email")))
    else:
        direction, identity = "inbound", sender
    subject = text(p.get("subject"))
    name = f"{direction}: " + (
        subject[: c.EMAIL_SUBJECT_CHARS] if subject is not None else c.NO_SUBJECT
    )
    payload = (
        direction,
        kept(p.get("preview")),
        kept(p.get("subject")),
        kept(p.get("threadId")),
    )
    ts = first(text(p.get("sentAt")), text(p.get("receivedAt")))
    return (created, name, _intern(_s(system)), ts, None, identity, payload, _iso(created))


def _invoices(warehouse: Any) -> Iterator[Row]:
    """Invoice rows with their email: $.customer_email."""
    for row in _objects_by_id("invoice", "invoice_id")(warehouse):
        yield (*row, text(row[4].get("customer_email")))


def _payments(warehouse: Any) -> Iterator[Row]:
    """Payment rows with the email their customer chain gives (None when it breaks)."""
    emails = customer_emails(warehouse)
    for row in _objects_by_id("payment", "payment_id")(warehouse):
        customer = text(row[4].get("customer_id"))
        yield (*row, emails.get(customer) if customer is not None else None)


def _refunds(warehouse: Any) -> Iterator[Row]:
    """Refund rows with the email their payment -> customer chain gives."""
    emails = customer_emails(warehouse)
    customers = payment_customers(warehouse)
    for row in _objects_by_id("refund", "refund_id")(warehouse):
        payment = text(row[4].get("payment_intent_id"))
        customer = customers.get(payment) if payment is not None else None
        yield (*row, emails.get(customer) if customer is not None else None)


def _billing(keys: tuple[str, ...]) -> Callable[[Row, frozenset[str]], Candidate]:
    """An invoice, payment or refund row (its email last, as its stream found it)."""

    def map_row(row: Row, practice: frozenset[str]) -> Candidate:
        _id, _idem, _system, _schema, p, created, email = row
        return (
            created,
            _intern(text(p.get("status"))),
            "stripe",
            trim(text(p.get("event_time"))),
            None,
            norm_email(email),
            tuple(kept(p.get(k)) for k in keys),
            _iso(created),
        )

    return map_row


def _measurement_rows(warehouse: Any) -> Iterator[Row]:
    columns = (
        "measurement_event_id",
        "subject_id",
        "event_subtype",
        "occurred_at",
        "binding_id",
        "binding_version",
        "form_id",
        "source_id",
        "canonical_object_id",
        "processed_at",
    )
    if not warehouse.table_exists("measurement_events"):
        return
    for batch in warehouse.read_batches("measurement_events", list(columns)):
        yield from zip(*(col.to_pylist() for col in batch.columns), strict=True)


def _map_form(row: Row, practice: frozenset[str]) -> Candidate:
    _id, subject, subtype, occurred, b_id, b_version, form_id, source_id, object_id, done = row
    processed = micros(done)
    payload = (_s(b_id), _s(b_version), _s(object_id), _s(form_id), _s(source_id))
    occurred_us = micros(occurred)
    return (
        processed,
        _intern(subtype),
        "google_form",
        None if occurred_us is None else _iso(occurred_us),
        None,
        norm_email(subject),
        payload,
        None if processed is None else _iso(processed),
    )


INVOICE_KEYS = ("amount_due", "currency", "description", "invoice_number")


def _spec(system: str, kind: str, event_type: str, keys, map_row, stream) -> SourceSpec:
    assert tuple(sorted(keys)) == tuple(keys)
    return SourceSpec(kind, system, "id", event_type, (), tuple(keys), map_row, stream)


SPECS: tuple[SourceSpec, ...] = (
    _spec(
        "measurement_events",
        "measurement_events",
        "form",
        ("binding_id", "binding_version", "canonical_object_id", "form_id", "form_submission_id"),
        _map_form,
        _measurement_rows,
    ),
    _spec(
        "canonical.clinical_sessions",
        "clinical_session",
        "session",
        ("idem_key", "session_num"),
        _map_session,
        _objects_by_id("clinical_session", "session_id"),
    ),
    _spec(
        "canonical.email_events",
        "email_jmap_lite",
        "email",
        ("direction", "preview", "subject", "thread_id"),
        _map_email,
        _objects_by_id("email_jmap_lite", "id"),
    ),
    *(
        _spec(system, kind, kind, keys, _billing(keys), stream)
        for system, kind, keys, stream in (
            ("stripe_invoice", "invoice", INVOICE_KEYS, _invoices),
            ("stripe_payment", "payment", ("amount", "currency", "payment_method_type"), _payments),
            ("stripe_refund", "refund", ("amount", "currency", "reason"), _refunds),
        )
    ),
)

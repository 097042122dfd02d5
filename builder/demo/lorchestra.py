"""`contact-events demo-data DIR --profile lorchestra`: the demo practice in the lorchestra
layout (CONTRACT §7).

Writes `DIR/canonical_objects.jsonl` (one row per canonical object: `idem_key`,
`source_system`, `connection_name`, `object_type`, an Iglu `canonical_schema`,
`canonical_format`, a JSON-object `payload`, `created_at`) and
`DIR/measurement_events.jsonl` (form submissions). The practice is the flat demo's
(builder.demo.flat: the same contacts, names, stages, client types, two years of weekly-ish
sessions before `now`, quiet clients, couples sharing an address) in lorchestra's kinds:
`contact` and `clinical_session` from Dataverse, `email_jmap_lite` from Gmail (the practice's
hello@ address) and Exchange (admin@), Stripe `customer`, `invoice`, `payment` and
`refund` (most sessions are invoiced and paid by card; some payments are refunded), and
PHQ-9 / GAD-7 / CORE-10 submissions (`intake_01`, `intake_02`, `followup`).

Every rule of CONTRACT §7 (and of §1-3 as §7 applies them) meets its trap, each in a small
proportion, dealt from a shuffled deck (builder.demo.flat's) so even small outputs hold
each of them:

* billing chains that break: payments with no `customer_id` (key absent, `null`, `""`),
  with a `customer_id` no customer has, of a customer without email (`null`, absent) or
  with a blank one (`""`, spaces); refunds with no `payment_intent_id`, pointing at no
  payment, or at a payment whose own chain breaks (each of the three ways); a payment
  first ingested without its `customer_id` and re-ingested later with it;
* customers whose email changed: two rows of one `customer_id`, the later `created_at`
  wins (sometimes written first in the file; sometimes the new address is one no contact
  has); two rows with equal `created_at` and different emails (the smaller email wins;
  a null one, first in GoogleSQL's order, wins over an address);
  mixed-case addresses; exact duplicates; a customer row without a `customer_id`;
* two schema versions of every kind read (`contact` 1-0-0 and 2-0-0, the others 1-0-0 and
  1-1-0), sometimes on two rows of one record;
* kinds to ignore: `clinical_document`, `session_transcript` (whose payload carries the
  session's `session_id`, `contact_id` and a later `started_at`), `form_response`, another
  vendor's `iglu:com.lifeos/contact/jsonschema/1-0-0` (a copy of a real contact with another
  email and a later `updated_at`), and a row with no `canonical_schema`;
* numbers and strings in payloads: amounts as numbers (pence), as strings (`"12000"`,
  `"120.00"`) and as objects (`{"amount": 12000, "currency": "gbp"}`); `session_num` as an
  integer, a string of digits (`"7"`, `"07"`), or not an integer (`"3rd"`, `"2.5"`, `" 4"`,
  `"four"`, `""`, `4.5`, `null`); a session id that is a JSON number; Stripe `event_time`
  as epoch seconds (a number: `bad_timestamp`);
* sessions whose `started_at` is empty, null or absent (so `$.created_at` is used), or
  whose `started_at` and `created_at` both are (so `$.updated_at` is); sessions whose
  `started_at` is non-empty and unparseable while `created_at` is fine (no fall-through);
* emails with only `receivedAt` (`sentAt` absent, `null` or `""`); `sentAt` unparseable
  while `receivedAt` is fine (no fall-through); `from` an object instead of an array;
  outbound mail whose first recipient is the practice's other address; senders and
  recipients without an `email`, or with `""`; practice addresses in mixed case as senders;
  subjects empty, null, absent, longer than 50 characters, with non-ASCII and an emoji;
* duplicates: one record id re-ingested with a later `created_at` (`processed_at` for
  forms) and a changed field (sometimes written first in the file, sometimes with a
  `-05:00` offset so that comparing the strings would pick the wrong row); exact
  duplicates; equal `created_at` with different content (ties break on content); contacts
  listed twice (a later `updated_at`, an equal one, an unparseable one; the stale copy
  synced again, so its `created_at` is the later: contacts go by `updated_at`);
* missing record ids: key absent, `null` and `""` (never collapsed as duplicates); a
  contact row without `contact_id`; an empty `idem_key`;
* emails: mixed-case and space-padded addresses (contacts, customers, invoices, mail,
  forms); orphans (addresses no contact has); ambiguous addresses (couples sharing one);
  contacts without an email (`null`, `""`); rows with no identity at all;
* sessions on unknown `contact_id`s and sessions with none;
* empty strings where values belong (`status`, `currency`, `event_subtype`, `binding_id`,
  `first_name`, `client_type_code`, `description`, `preview`);
* timestamps inside payloads in every form the flat demo uses (`Z`, `+00:00`, fractional
  seconds, offsets, naive, date-only, padded, lower-case `t`/`z`, 7 and 9 fractional
  digits, unparseable, empty, null, absent). TIMESTAMP columns (`created_at`,
  `occurred_at`, `processed_at`) are always RFC 3339 text of the contract's grammar (in
  several of its forms) or null, as `load` requires: a form with a null `occurred_at`
  (`missing_timestamp`), a few rows with a null `created_at` / `processed_at`.

Nested objects in payloads (`from`, `to`, object amounts, answers) are written with their
keys sorted, so their JSON text is canonical. The output depends only on `DemoSize` (seed
included) and `now`; `DemoSize.events` is about the number of rows other than contacts
and customers. It is streamed like the flat demo: rows go out in chunks through
builder.demo.flat's sink, state is a few fields per contact, and memory does not grow with
the number of events.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from .flat import (
    _ABSENT,
    BAD_TIMESTAMPS,
    COMMON_TRAPS,
    DAY,
    MEASURES,
    MESSAGE_BODIES,
    PRACTICE_EMAILS,
    SESSION_STATUSES,
    SUBJECTS,
    TRAP_PERIOD,
    DemoSize,
    _budgets,
    _case_variant,
    _Clock,
    _Contact,
    _Deck,
    _encode,
    _Practice,
    _Sink,
    _start,
)

__all__ = ["DemoSize", "PRACTICE_EMAILS", "write_lorchestra_demo_data"]

OBJECTS = "canonical_objects"
FORMS = "measurement_events"
TABLES = (OBJECTS, FORMS)  # the lorchestra profile's tables (its files' headers)

SCHEMA = "iglu:org.canonical/{}/jsonschema/{}"
LIFEOS_CONTACT = "iglu:com.lifeos/contact/jsonschema/1-0-0"

# kind -> source_system, object_type, canonical_format, (usual version, other version)
KINDS: dict[str, tuple[str, str, str, tuple[str, str]]] = {
    "contact": ("dataverse", "contact", "full", ("1-0-0", "2-0-0")),
    "clinical_session": ("dataverse", "session", "full", ("1-0-0", "1-1-0")),
    "email_jmap_lite": ("gmail", "email", "lite", ("1-0-0", "1-1-0")),
    "customer": ("stripe", "customer", "full", ("1-0-0", "1-1-0")),
    "invoice": ("stripe", "invoice", "full", ("1-0-0", "1-1-0")),
    "payment": ("stripe", "payment", "full", ("1-0-0", "1-1-0")),
    "refund": ("stripe", "refund", "full", ("1-0-0", "1-1-0")),
    # kinds the profile ignores
    "clinical_document": ("dataverse", "document", "full", ("1-0-0", "1-0-0")),
    "session_transcript": ("dataverse", "transcript", "full", ("1-0-0", "1-0-0")),
    "form_response": ("google_forms", "form_response", "full", ("1-0-0", "1-0-0")),
}
CONNECTIONS = {
    "dataverse": "dataverse-mindfulpractice",
    "gmail": "gmail-hello",
    "exchange": "exchange-admin",
    "stripe": "stripe-mindfulpractice",
    "google_forms": "google-forms-mindfulpractice",
    "lifeos": "lifeos-local",
}
PRACTICE_NAME = "Mindful Practice"

FEES = {"individual": 12_000, "couple": 15_000, "child": 10_000, "family": 16_000}  # pence
BILL_SHARE = 0.55  # of sessions, invoiced through Stripe
PAID_SHARE = 0.9  # of invoices, followed by a payment
REFUND_SHARE = 0.2  # of payments, refunded (cancellations)
UNBILLED_EVERY = 9  # one client in nine pays through insurance: no Stripe customer
INVOICE_STATUSES = ("open", "open", "void", "uncollectible")
PAYMENT_STATUSES = ("succeeded",) * 14 + ("processing", "requires_payment_method")
REFUND_STATUSES = ("succeeded",) * 8 + ("pending", "failed")
REFUND_REASONS = ("requested_by_customer",) * 5 + ("duplicate", None)
PAYMENT_METHODS = ("card",) * 6 + ("bacs_debit", "link")
SUBTYPES = ("intake_01", "intake_02")  # then `followup`
NOT_INTEGERS = ("3rd", "2.5", " 4", "four", "", 4.5, None)
DOCUMENT_TITLES = ("Progress note", "Treatment plan", "Risk assessment", "Letter to GP")
OLD_DOMAINS = ("hotmail.com", "aol.com", "btopenworld.com")

# Share of a contact's draws per kind: forms, sessions (each with its billing), emails.
CLIENT_MIX = (0.20, 0.42, 0.38)
LEAD_MIX = (0.0, 0.0, 1.0)
# Rows a draw makes on average (billing after a session, ignored kinds, duplicates): the
# budget is divided by it so that `events` is about the rows written. Measured, not exact.
ROWS_PER_DRAW = 1.6

# Trap decks: name -> (cards, period). Event kinds get the flat demo's common traps.
_COMMON = {**COMMON_TRAPS, "schema_next": 1, "created_null": 1}
_EMAIL_ID = {"email_case": 3, "orphan": 3, "no_identity": 2}
_AMOUNTS = {"amount_string": 3, "amount_object": 2, "empty_strings": 1, "ts_epoch": 1}
DECKS: dict[str, tuple[dict[str, int], int]] = {
    "contact": (
        {
            "v2": 20,
            "dup_later": 4,
            "dup_tie": 1,
            "dup_bad_updated": 1,
            "lifeos_copy": 3,
            "no_id": 1,
            "email_null": 1,
            "empty_first_name": 1,
            "empty_client_type": 1,
        },
        TRAP_PERIOD,
    ),
    "customer": (
        {
            "no_email": 1,
            "no_email_key": 1,
            "blank_email": 1,
            "spaces_email": 1,
            "email_changed": 2,
            "email_moved": 1,
            "email_case": 2,
            "tie": 1,
            "tie_no_email": 1,
            "dup_exact": 1,
            "no_id": 1,
            "schema_next": 1,
        },
        100,
    ),
    "clinical_session": (
        {
            **_COMMON,
            "unknown_contact": 3,
            "no_contact": 1,
            "start_empty": 3,
            "start_created_empty": 2,
            "num_string": 3,
            "num_bad": 3,
            "id_number": 1,
            "idem_empty": 1,
        },
        TRAP_PERIOD,
    ),
    "session_extra": ({"document": 16, "transcript": 10, "no_schema": 1}, TRAP_PERIOD),
    "email_jmap_lite": (
        {
            **_COMMON,
            **_EMAIL_ID,
            "subject_empty": 3,
            "subject_null": 1,
            "subject_absent": 1,
            "practice_case": 2,
            "practice_first": 1,
            "received_only": 4,
            "from_not_array": 1,
        },
        TRAP_PERIOD,
    ),
    "invoice": ({**_COMMON, **_EMAIL_ID, **_AMOUNTS}, TRAP_PERIOD),
    "payment": (
        {
            **_COMMON,
            **_AMOUNTS,
            "no_customer": 3,
            "unknown_customer": 3,
            "customer_added": 2,
        },
        TRAP_PERIOD,
    ),
    # Refunds are few: a deck of 50, with a few of the common traps (the other kinds
    # hold all of them).
    "refund": (
        {
            "ts_offset": 1,
            "ts_bad": 1,
            "ts_missing": 1,
            "ts_epoch": 1,
            "id_missing": 1,
            "dup_later": 1,
            "schema_next": 1,
            "amount_string": 1,
            "amount_object": 1,
            "empty_strings": 1,
            "no_payment": 1,
            "unknown_payment": 1,
            # a payment of its own whose chain breaks: no customer_id, no such customer,
            # a customer without email
            "chain_no_customer": 1,
            "chain_unknown_customer": 1,
            "chain_no_email": 1,
        },
        50,
    ),
    "measurement_events": (
        {
            # occurred_at is a TIMESTAMP column: only forms `load` accepts
            "ts_offset": 3,
            "ts_naive_space": 2,
            "ts_naive_t": 2,
            "ts_date_only": 1,
            "ts_rfc_forms": 2,
            "occurred_null": 2,
            "processed_null": 1,
            "id_missing": 2,
            "dup_later": 3,
            "dup_exact": 1,
            "dup_tie": 1,
            "empty_strings": 2,
            **_EMAIL_ID,
        },
        TRAP_PERIOD,
    ),
    "form_extra": ({"form_response": 60}, TRAP_PERIOD),
}
_DRAW = "(draw)"  # _payment's default: draw the trap from the deck
SERIALS = (
    "contact",
    "clinical_session",
    "gmail",
    "exchange",
    "customer",
    "invoice",
    "payment",
    "refund",
    "measurement_events",
    "clinical_document",
    "session_transcript",
    "form_response",
)


def _schema(kind: str, other: bool = False) -> str:
    return SCHEMA.format(kind, KINDS[kind][3][1 if other else 0])


def _other_version(row: dict[str, object]) -> str:
    """The row's kind under its other schema version."""
    return _schema(str(row["canonical_schema"]).split("/")[1], other=True)


def _record(row: dict[str, object]) -> dict[str, object]:
    """Where a row's record id and fields live: a canonical object's payload, else the row."""
    payload = row.get("payload")
    return payload if isinstance(payload, dict) else row


class _Lorchestra(_Practice):
    """The practice's canonical objects and form submissions, written through the sink.

    Reuses the flat demo's pieces (_Practice): instants, timestamp and email traps,
    missing ids, unknown contact ids, strangers' addresses.
    """

    def __init__(
        self,
        rng: random.Random,
        clock: _Clock,
        sink: _Sink,
        contacts: list[_Contact],
    ):
        super().__init__(rng, clock, sink, {c.contact_id for c in contacts})
        self.decks = {name: _Deck(rng, traps, period) for name, (traps, period) in DECKS.items()}
        self.serial = dict.fromkeys(SERIALS, 0)
        self.customer_of = {c.index: f"cus_{rng.getrandbits(56):014x}" for c in contacts}
        self.customer_ids = set(self.customer_of.values())
        self.unknown_payments = 0
        self.turns: dict[str, int] = {}
        # the contact being written: its customer (None: not billed through Stripe)
        self.customer: str | None = None

    # -- variants

    def _turn(self, name: str, n: int) -> int:
        """0, 1, ..., n-1, 0, ... on successive uses of `name`: a trap's variants take
        turns, so each of them is there once the trap has been dealt n times."""
        turn = self.turns.get(name, -1) + 1
        self.turns[name] = turn
        return turn % n

    def _missing_as(self, name: str) -> object:
        """A missing value, in turn: key absent, null, empty string."""
        return (_ABSENT, None, "")[self._turn(name, 3)]

    # -- rows

    def _stamp(self, ts: int) -> str:
        """A TIMESTAMP column's text: RFC 3339 in the forms exports use."""
        self.k += 1
        if self.k % 7 == 0:
            return self.clock.z_micros(ts, self.k * 7919)
        if self.k % 11 == 0:
            return self.clock.z(ts, "+00:00")
        return self.clock.z(ts)

    def _object(
        self,
        kind: str,
        payload: dict[str, object],
        created: int,
        idem: str | None,
        system: str | None = None,
    ) -> dict[str, object]:
        source_system, object_type, fmt, _ = KINDS[kind]
        system = system or source_system
        return {
            "idem_key": idem,
            "source_system": system,
            "connection_name": CONNECTIONS[system],
            "object_type": object_type,
            "canonical_schema": _schema(kind),
            "canonical_format": fmt,
            "payload": payload,
            "created_at": self._stamp(created),
        }

    # The record (where the id and the mutated fields live) is the payload of a canonical
    # object, the row itself for a form; `created_at` orders duplicates, or
    # `processed_at` for a form. Rows are written by `_Practice._write`.

    def _trap(self, table: str, row: dict[str, object], trap: str, id_key: str) -> dict:
        objects = table == OBJECTS
        record = _record(row)
        if trap == "id_missing":
            # a row keeps every column of the contract; a payload may lack the key
            record[id_key] = (
                self._missing_as(id_key) if objects else (None, "")[self._turn(id_key, 2)]
            )
        elif trap == "schema_next":
            row["canonical_schema"] = _other_version(row)
        elif trap in ("created_null", "processed_null"):
            row["created_at" if objects else "processed_at"] = None
        return record

    def _copy(self, table: str, row: dict[str, object], record: dict) -> dict[str, object]:
        copy = dict(row)
        if table == OBJECTS:
            copy["payload"] = dict(record)
        return copy

    def _record_of(self, table: str, row: dict[str, object]) -> dict[str, object]:
        return _record(row)

    def _stamp_later(
        self, table: str, row: dict[str, object], copy: dict[str, object], later: int
    ) -> None:
        objects = table == OBJECTS
        offset = self._turn(f"{table}:offset", 3) == 0
        stamp = "created_at" if objects else "processed_at"
        copy[stamp] = self.clock.offset(later, -300) if offset else self.clock.z(later)
        if objects and self._turn("version", 4) == 1:  # re-ingested as the other version
            copy["canonical_schema"] = _other_version(row)

    def _winner_first(self, table: str) -> bool:
        return self._turn(f"{table}:order", 5) < 2

    def _emit(self, row: dict[str, object]) -> None:
        self.sink.emit(OBJECTS, _encode(row))

    # -- one contact

    def contact(self, c: _Contact, budget: int) -> None:
        n_forms, n_sessions, n_emails = self._plan3(c, budget)
        end = self.clock.now - int(c.end_days * DAY)
        length = self._window_days(c, n_sessions)
        start = max(end - int(length * DAY), self.clock.earliest)
        self._contact_rows(c, start, end)
        billed = c.stage != "lead" and c.index % UNBILLED_EVERY != 4 and n_sessions > 0
        self.customer = self.customer_of[c.index] if billed else None
        if self.customer is not None:
            self._customer(c, self.customer, max(start - int(self.rng.uniform(1, 20) * DAY), 0))
        if n_sessions:
            self._sessions(c, n_sessions, start, end)
        for i, ts in enumerate(self._times(n_forms, start, end)):
            self._form(c, ts, i)
        for i, ts in enumerate(self._times(n_emails, start, end)):
            self._mail(c, ts, i)

    def _plan3(self, c: _Contact, budget: int) -> list[int]:
        mix = list(LEAD_MIX if c.stage == "lead" else CLIENT_MIX)
        if not c.forms or not c.email:
            mix[1] += mix[0]
            mix[0] = 0.0
        counts = [0, 0, 0]
        rnd = self.rng.random
        for _ in range(budget):
            r = rnd()
            counts[0 if r < mix[0] else 1 if r < mix[0] + mix[1] else 2] += 1
        return counts

    # -- contacts and customers

    def _contact_rows(self, c: _Contact, start: int, end: int) -> None:
        trap = self.decks["contact"].draw()
        rng, clock = self.rng, self.clock
        updated = max(end - int(rng.uniform(0.0, max(c.end_days, 1.0)) * DAY), start)
        updated = min(updated, clock.now)
        self.k += 1
        payload: dict[str, object] = {
            "contact_id": c.contact_id,
            "email": c.email_raw,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "lifecycleStage": c.stage,
            "client_type_code": c.client_type,
            "updated_at": clock.z(updated) if self.k % 20 else clock.offset(updated, 60),
        }
        if trap == "email_null":  # the CRM lost the address: the contact's mail is an orphan
            payload["email"] = None
        if trap in ("empty_first_name", "empty_client_type"):
            payload["first_name" if trap == "empty_first_name" else "client_type_code"] = ""
        idem = f"dataverse:contact:{c.contact_id}"
        row = self._object("contact", payload, min(updated + 90, clock.now), idem)
        if trap == "v2":
            row["canonical_schema"] = _schema("contact", other=True)
            payload["preferredName"] = c.first_name  # 2-0-0 carries more; the rest is read
        if trap == "no_id":  # a row nobody can reference, with a stranger's address
            stray = {
                **payload,
                "contact_id": self._missing_as("contact_id"),
                "email": self._stranger(),
            }
            stray = {k: v for k, v in stray.items() if v is not _ABSENT}
            self._emit(self._object("contact", stray, updated, None))
        if trap == "lifeos_copy":  # another vendor's contact kind: ignored
            copy = {**payload, "email": self._stranger(), "lifecycleStage": "archived"}
            copied = min(updated + 5 * DAY, clock.now)
            copy["updated_at"] = clock.z(copied)
            other = self._object("contact", copy, copied, f"lifeos:{c.contact_id}")
            other.update(
                source_system="lifeos",
                connection_name=CONNECTIONS["lifeos"],
                canonical_schema=LIFEOS_CONTACT,
            )
            self._emit(other)
        if trap in ("dup_later", "dup_tie", "dup_bad_updated"):
            # the CRM's record before the client was taken on, synced again later: a later
            # created_at, but contacts go by updated_at (older, tied, or unparseable)
            older = {**payload, "lifecycleStage": "lead" if c.stage != "lead" else "active"}
            if trap == "dup_later":
                older["updated_at"] = clock.z(updated - 30 * DAY)
            elif trap == "dup_bad_updated":
                older["updated_at"] = BAD_TIMESTAMPS[self.k % len(BAD_TIMESTAMPS)]
            resynced = min(updated + 2 * DAY, clock.now)
            rows = [row, self._object("contact", older, resynced, idem)]
            if self._turn("contact:order", 2):
                rows.reverse()
            for r in rows:
                self._emit(r)
            return
        self._emit(row)

    def _customer(self, c: _Contact, customer_id: str, created: int) -> None:
        trap = self.decks["customer"].draw()
        self.k += 1
        email: object = c.email
        if trap in ("no_email", "no_email_key", "blank_email", "spaces_email"):
            email = {"no_email": None, "no_email_key": _ABSENT, "blank_email": ""}.get(trap, "   ")
        elif trap == "email_case" and c.email:
            email = _case_variant(c.email, self.k)
        payload: dict[str, object] = {
            "customer_id": customer_id,
            "email": email,
            "name": f"{c.first_name} {c.last_name}",
        }
        if trap == "no_id":
            payload["customer_id"] = self._missing_as("customer:customer_id")
        payload = {k: v for k, v in payload.items() if v is not _ABSENT}
        row = self._object("customer", payload, created, f"stripe:customer:{customer_id}")
        if trap == "schema_next":
            row["canonical_schema"] = _other_version(row)
        if trap not in ("email_changed", "email_moved", "tie", "tie_no_email", "dup_exact"):
            self._emit(row)
            return
        if trap == "dup_exact":
            self._emit(row)
            self._emit(row)
            return
        local = (c.email or "someone@example.com").partition("@")[0]
        old_address = f"{local}@{OLD_DOMAINS[self.k % len(OLD_DOMAINS)]}"
        later = min(created + int(self.rng.uniform(30, 300) * DAY), self.clock.now)
        if trap == "email_changed":  # the old address matched no contact; the new one does
            older, newer = {**payload, "email": old_address}, payload
        elif trap == "email_moved":  # the client moved to an address the CRM never got
            older, newer = payload, {**payload, "email": old_address.replace("@", ".new@")}
        else:  # equal created_at, different emails: the smaller one wins, a null first
            other = self._stranger() if trap == "tie" else None
            older, newer = payload, {**payload, "email": other}
            later = created
        idem = f"stripe:customer:{customer_id}"
        rows = [
            self._object("customer", older, created, idem),
            self._object("customer", newer, later, idem),
        ]
        if trap in ("tie", "tie_no_email"):
            rows[1]["created_at"] = rows[0]["created_at"]
        else:  # the newer row under the kind's newer schema
            rows[1]["canonical_schema"] = _other_version(rows[1])
        if self._turn(f"customer:{trap}", 2):
            rows.reverse()  # the later row first in the file
        for r in rows:
            self._emit(r)

    def _unknown_customer(self) -> str:
        cid = f"cus_{self.rng.getrandbits(56):014x}"
        while cid in self.customer_ids:
            cid = f"cus_{self.rng.getrandbits(56):014x}"
        return cid

    # -- sessions and what hangs off them

    def _session(self, c: _Contact, ts: int, num: int) -> None:
        trap = self.decks["clinical_session"].draw()
        rng, clock = self.rng, self.clock
        status = SESSION_STATUSES[int(rng.random() * len(SESSION_STATUSES))]
        created = self._created(ts + 3000)
        session_id = self._next_id("clinical_session", "ses_")
        payload: dict[str, object] = {
            "session_id": session_id,
            "contact_id": c.contact_id,
            "status": status,
            "session_num": num,
            "started_at": self._timestamp(trap, ts, clock.z(ts)),
            "created_at": clock.z(created),
            "updated_at": clock.z(min(created + 600, clock.now)),
        }
        self.k += 1
        if trap == "unknown_contact":
            payload["contact_id"] = self._unknown_contact_id()
        elif trap == "no_contact":
            payload["contact_id"] = self._missing_as("session:contact_id")
        elif trap in ("start_empty", "start_created_empty"):
            payload["started_at"] = self._missing_as("started_at")
            if trap == "start_created_empty":
                payload["created_at"] = self._missing_as("session:created_at")
        elif trap in ("ts_empty", "ts_missing"):
            payload["created_at"] = payload["updated_at"] = payload["started_at"]
        elif trap == "num_string":
            payload["session_num"] = f"{num:02d}" if self._turn(trap, 2) else str(num)
        elif trap == "num_bad":
            payload["session_num"] = NOT_INTEGERS[self._turn(trap, len(NOT_INTEGERS))]
        elif trap == "id_number":
            payload["session_id"] = 7_000_000 + self.serial["clinical_session"]
        idem = f"dv:{c.contact_id[:8]}:{num}"
        if trap == "idem_empty":
            idem = (None, "")[self._turn(trap, 2)]
        row = self._object("clinical_session", payload, created, idem)
        self._write(OBJECTS, row, trap, "session_id", created, self._mutate_session)
        self._session_extra(c, session_id, ts, created)
        if self.customer is not None and rng.random() < BILL_SHARE:
            self._bill(c, ts)

    @staticmethod
    def _mutate_session(payload: dict[str, object]) -> None:
        completed = payload.get("status") == "Session Completed"
        payload["status"] = "Client Cancelled" if completed else "Session Completed"

    def _session_extra(self, c: _Contact, session_id: str, ts: int, created: int) -> None:
        """Kinds the profile ignores: documents and transcripts of a session."""
        extra = self.decks["session_extra"].draw()
        if extra is None:
            return
        clock = self.clock
        later = min(created + 1800, clock.now)
        if extra == "transcript":  # looks like a session: it must not be read as one
            tid = self._next_id("session_transcript", "tr_")
            payload: dict[str, object] = {
                "transcript_id": tid,
                "session_id": session_id,
                "contact_id": c.contact_id,
                "status": "transcribed",
                "started_at": clock.z(ts + 60),
                "text": "Client reported sleeping better since the last session.",
            }
            self._emit(self._object("session_transcript", payload, later, f"dv:tr:{tid}"))
            return
        did = self._next_id("clinical_document", "doc_")
        payload = {
            "document_id": did,
            "session_id": session_id,
            "contact_id": c.contact_id,
            "title": DOCUMENT_TITLES[self.k % len(DOCUMENT_TITLES)],
            "mime_type": "application/pdf",
            "created_at": clock.z(later),
        }
        row = self._object("clinical_document", payload, later, f"dv:doc:{did}")
        if extra == "no_schema":
            row["canonical_schema"] = None
        self._emit(row)

    # -- billing

    def _amount(self, trap: str | None, fee: int) -> object:
        if trap == "amount_string":
            return f"{fee / 100:.2f}" if self._turn(trap, 2) else str(fee)
        if trap == "amount_object":
            return {"amount": fee, "currency": "gbp"}  # keys sorted
        return fee

    def _event_time(self, trap: str | None, ts: int, canonical: str) -> object:
        if trap == "ts_epoch":
            return ts  # Stripe's own `created`: a number, not a timestamp of the grammar
        return self._timestamp(trap, ts, canonical)

    def _bill(self, c: _Contact, session_ts: int) -> None:
        rnd, now = self.rng.random, self.clock.now
        fee = FEES.get(c.client_type or "individual", FEES["individual"])
        invoiced = min(session_ts + 3600 + int(rnd() * 3600), now)
        paid = rnd() < PAID_SHARE
        self._invoice(c, invoiced, fee, paid)
        if not paid:
            return
        paid_at = min(invoiced + int(rnd() * 3 * DAY), now)
        payment_id = self._payment(paid_at, fee, self.customer)
        if rnd() < REFUND_SHARE:
            self._refund(c, payment_id, min(paid_at + int((1 + rnd() * 13) * DAY), now), fee)

    def _invoice(self, c: _Contact, ts: int, fee: int, paid: bool) -> None:
        trap = self.decks["invoice"].draw()
        clock = self.clock
        serial = self.serial["invoice"] + 1
        invoice_id = self._next_id("invoice", "in_")
        status = "paid" if paid else INVOICE_STATUSES[serial % len(INVOICE_STATUSES)]
        payload: dict[str, object] = {
            "invoice_id": invoice_id,
            "invoice_number": f"MP-{serial:06d}",
            "customer_email": self._email(c.email, trap),
            "status": "" if trap == "empty_strings" else status,
            "event_time": self._event_time(trap, ts, clock.z(ts)),
            "amount_due": self._amount(trap, fee),
            "currency": "gbp",
            "description": f"{(c.client_type or 'individual').title()} therapy session, "
            f"{clock.date_only(ts)}",
        }
        if trap == "empty_strings":
            payload["description"] = ""
        created = self._created(ts)
        row = self._object("invoice", payload, created, f"stripe:invoice:{invoice_id}")
        self._write(OBJECTS, row, trap, "invoice_id", created, self._mutate_invoice)

    @staticmethod
    def _mutate_invoice(payload: dict[str, object]) -> None:
        payload["status"] = "open" if payload.get("status") == "paid" else "paid"

    def _payment(self, ts: int, fee: int, customer_id: str | None, trap: str | None = _DRAW) -> str:
        """Write a payment; return its id. `trap` is drawn, or forced by a refund whose
        chain must break (None: no trap)."""
        if trap == _DRAW:
            trap = self.decks["payment"].draw()
        clock, rnd = self.clock, self.rng.random
        payment_id = self._next_id("payment", "pi_")
        payload: dict[str, object] = {
            "payment_id": payment_id,
            "customer_id": customer_id,
            "status": PAYMENT_STATUSES[int(rnd() * len(PAYMENT_STATUSES))],
            "event_time": self._event_time(trap, ts, clock.z_millis(ts, ts)),
            "amount": self._amount(trap, fee),
            "currency": "gbp",
            "payment_method_type": PAYMENT_METHODS[int(rnd() * len(PAYMENT_METHODS))],
        }
        if trap == "no_customer":
            payload["customer_id"] = self._missing_as("payment:customer_id")
        elif trap == "unknown_customer":
            payload["customer_id"] = self._unknown_customer()
        elif trap == "empty_strings":
            payload["status"] = payload["currency"] = ""
        created = self._created(ts)
        row = self._object("payment", payload, created, f"stripe:payment:{payment_id}")
        if trap == "customer_added":  # first ingested before the customer was attached
            first = {**payload, "customer_id": None, "status": "processing"}
            self._emit(self._object("payment", first, created, f"stripe:payment:{payment_id}"))
            row["created_at"] = clock.z(created + 900)
            self._emit(row)
            return payment_id
        self._write(OBJECTS, row, trap, "payment_id", created, self._mutate_status)
        return payment_id

    @staticmethod
    def _mutate_status(payload: dict[str, object]) -> None:
        payload["status"] = "processing" if payload.get("status") == "succeeded" else "succeeded"

    def _refund(self, c: _Contact, payment_id: str, ts: int, fee: int) -> None:
        trap = self.decks["refund"].draw()
        clock = self.clock
        target: object = payment_id
        if trap == "no_payment":
            target = self._missing_as("payment_intent_id")
        elif trap == "unknown_payment":
            self.unknown_payments += 1
            target = f"pi_{9_000_000_000 + self.unknown_payments}"  # beyond any real serial
        elif trap == "chain_no_email":  # a payment of a customer without email
            paid_at = max(ts - DAY, self.clock.earliest)
            customer = self._unknown_customer()
            self.customer_ids.add(customer)
            nameless = {"customer_id": customer, "email": None, "name": c.last_name}
            idem = f"stripe:customer:{customer}"
            self._emit(self._object("customer", nameless, paid_at - DAY, idem))
            target = self._payment(paid_at, fee, customer, trap=None)
        elif trap in ("chain_no_customer", "chain_unknown_customer"):
            paid_at = max(ts - DAY, self.clock.earliest)
            target = self._payment(paid_at, fee, None, trap=trap[len("chain_") :])
        refund_id = self._next_id("refund", "re_")
        payload: dict[str, object] = {
            "refund_id": refund_id,
            "payment_intent_id": target,
            "status": REFUND_STATUSES[self.serial["refund"] % len(REFUND_STATUSES)],
            "event_time": self._event_time(trap, ts, clock.z(ts, "+00:00")),
            "amount": self._amount(trap, fee),
            "currency": "gbp",
            "reason": REFUND_REASONS[self.serial["refund"] % len(REFUND_REASONS)],
        }
        if trap == "empty_strings":
            payload["status"] = payload["currency"] = ""
        created = self._created(ts)
        row = self._object("refund", payload, created, f"stripe:refund:{refund_id}")
        self._write(OBJECTS, row, trap, "refund_id", created, self._mutate_status)

    # -- forms

    def _form(self, c: _Contact, ts: int, i: int) -> None:
        trap = self.decks["measurement_events"].draw()
        rng = self.rng
        measure, _version, binding, binding_version, form_id = MEASURES[
            int(rng.random() * len(MEASURES))
        ]
        serial = self.serial["measurement_events"] + 1
        processed = self._created(ts)
        response = f"google_forms:form_response:fr_{serial:08d}"
        row: dict[str, object] = {
            "measurement_event_id": self._next_id("measurement_events", "mev_"),
            "subject_id": self._email(c.email, trap),
            "event_type": "form_submission",
            "event_subtype": SUBTYPES[i] if i < len(SUBTYPES) else "followup",
            "occurred_at": self._occurred(trap, ts, serial),
            "binding_id": binding,
            "binding_version": binding_version,
            "form_id": form_id,
            "source_id": f"sub_{serial * 7919 % 1_000_003:07d}_{serial:x}",
            "canonical_object_id": response,
            "processed_at": self._stamp(processed),
        }
        if trap == "empty_strings":
            row["event_subtype" if serial % 2 else "binding_id"] = ""
        self._write(FORMS, row, trap, "measurement_event_id", processed, self._mutate_form)
        if self.decks["form_extra"].draw() == "form_response":
            self._form_response(c, ts, processed, measure, form_id, response, serial)

    def _occurred(self, trap: str | None, ts: int, serial: int) -> object:
        """occurred_at: a TIMESTAMP column, so only forms of the grammar, or null."""
        if trap == "occurred_null":
            return None
        if trap in ("ts_offset", "ts_naive_space", "ts_naive_t", "ts_date_only", "ts_rfc_forms"):
            return self._timestamp(trap, ts, "")
        return self.clock.z_millis(ts, serial * 37)

    @staticmethod
    def _mutate_form(row: dict[str, object]) -> None:
        row["binding_version"] = str(int(str(row["binding_version"])) + 1)

    def _form_response(
        self, c: _Contact, ts: int, created: int, measure: str, form_id: str, idem: str, n: int
    ) -> None:
        """The submission as a canonical object (a kind the profile ignores)."""
        answers = {f"q{k:02d}": (n * k) % 4 for k in range(1, 10 if measure == "phq9" else 8)}
        payload: dict[str, object] = {
            "response_id": idem.rpartition(":")[2],
            "respondent_email": c.email,
            "form_id": form_id,
            "submitted_at": self.clock.z(ts),
            "answers": answers,  # keys sorted
        }
        self._emit(self._object("form_response", payload, created, idem))

    # -- mail

    def _mail(self, c: _Contact, ts: int, i: int) -> None:
        trap = self.decks["email_jmap_lite"].draw()
        rng, clock = self.rng, self.clock
        gmail = rng.random() < 0.6
        practice = PRACTICE_EMAILS[0] if gmail else PRACTICE_EMAILS[1]
        other_practice = PRACTICE_EMAILS[1] if gmail else PRACTICE_EMAILS[0]
        client = self._email(c.email, trap)
        client_name = f"{c.first_name} {c.last_name}"
        subject: object = SUBJECTS[int(rng.random() * len(SUBJECTS))]
        self.k += 1
        if trap in ("practice_case", "practice_first") or rng.random() < 0.55:  # outbound
            sender = practice.title() if trap == "practice_case" else practice
            senders: object = [{"email": sender, "name": PRACTICE_NAME}]
            recipients = [] if not client else [{"email": client, "name": client_name}]
            if trap == "practice_first":  # the practice copied itself first: no client
                recipients.insert(0, {"email": other_practice, "name": PRACTICE_NAME})
            elif recipients and rng.random() < 0.1:
                recipients.append({"email": other_practice, "name": PRACTICE_NAME})
        else:  # inbound: the client writes to the practice
            recipients = [{"email": practice, "name": PRACTICE_NAME}]
            if client:
                senders = [{"email": client, "name": client_name}]
            else:  # no sender, a sender without an address, or with an empty one
                senders = ([], [{"name": client_name}], [{"email": ""}])[self._turn("sender", 3)]
            subject = f"Re: {subject}" if rng.random() < 0.4 else subject
        if trap == "from_not_array" and isinstance(senders, list) and senders:
            senders = senders[0]
        if trap == "subject_empty":
            subject = ""
        elif trap in ("subject_null", "subject_absent"):
            subject = None if trap == "subject_null" else _ABSENT
        received = min(ts + 2 + int(rng.random() * 60), clock.now)
        email_id = self._next_id("gmail" if gmail else "exchange", "gm_" if gmail else "ex_")
        thread = f"18{c.index:07x}{i // 3:04x}" if gmail else f"AAQkAD{c.index:07d}{i // 3:04d}="
        sent = self._timestamp(trap, ts, clock.z(ts) if gmail else clock.offset(ts, 60))
        payload: dict[str, object] = {
            "id": email_id,
            "threadId": thread,
            "subject": subject,
            "from": senders,
            "to": recipients,
            "sentAt": sent,
            "receivedAt": clock.z_millis(received, received),
            "preview": MESSAGE_BODIES[int(rng.random() * len(MESSAGE_BODIES))],
        }
        if trap == "received_only":
            payload["sentAt"] = self._missing_as("sentAt")
        elif trap in ("ts_empty", "ts_missing"):
            payload["receivedAt"] = sent
        created = self._created(ts)
        system = "gmail" if gmail else "exchange"
        row = self._object("email_jmap_lite", payload, created, f"{system}:{email_id}", system)
        self._write(OBJECTS, row, trap, "id", created, self._mutate_mail)

    @staticmethod
    def _mutate_mail(payload: dict[str, object]) -> None:
        payload["preview"] = f"{payload.get('preview') or ''} (edited)".strip()


# --------------------------------------------------------------------------- entry point


def write_lorchestra_demo_data(
    directory: Path,
    size: DemoSize = DemoSize(),
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Write `directory/canonical_objects.jsonl` and `directory/measurement_events.jsonl`;
    return rows per file.

    `progress(n)` is called with the number of rows (of both files) written since its
    last call. The output is a function of `size` and `now` (default: the current hour,
    UTC; a naive `now` is read as UTC).
    """
    directory, rng, clock, contacts = _start(directory, size, now)
    sink = _Sink(directory, TABLES, progress)
    try:
        practice = _Lorchestra(rng, clock, sink, contacts)
        budgets = _budgets(contacts, round(max(size.events, 0) / ROWS_PER_DRAW))
        for c, budget in zip(contacts, budgets, strict=True):
            practice.contact(c, budget)
    finally:
        sink.close()
    return dict(sink.rows)

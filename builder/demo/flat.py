"""`contact-events demo-data DIR`: a synthetic psychology practice as canonical JSONL.

Writes `DIR/<table>.jsonl` for the six canonical tables of CONTRACT §1. The practice:
contacts (mostly `active` clients, some `discharged`, some `lead`; individual, couple,
child and family clients; names with non-ASCII letters such as Zoë, Łukasz, Nguyễn,
Søren), weekly-ish clinical sessions, PHQ-9 / GAD-7 / CORE-10 form submissions, Gmail
and Outlook mail between clients and the practice (`PRACTICE_EMAILS`), SMS and WhatsApp
messages, and reminders / intake system events. Events span the two years before `now`;
active clients have events in the last few days, some clients went quiet (nothing in
the last 60+ days) and some never submit a form.

Every rule of CONTRACT §1-3 meets its trap, each in a small proportion (about 0.5-2%
of a table's rows, dealt from a shuffled deck so even small outputs hold each of them):

* emails: mixed-case and space-padded addresses, in sources and in `contacts`; practice
  addresses in mixed case as senders (direction is case-insensitive);
* one email shared by two contacts (couples), so rows identified by it are
  `ambiguous_email`; a few contacts without an email (`null`, and one `""`);
* a few contacts listed twice (same `contact_id`, different `updated_at` and stage);
* timestamps: `Z`, `+00:00`, fractional seconds, offsets (`+02:00`, `-05:00`, `+05:30`
  ...), naive (`2024-03-01 10:00:00` and `2024-03-01T10:00:00`), date-only, padded with
  spaces; RFC 3339 forms strict parsers refuse (lower-case `t`/`z`, 7 or 9 fractional
  digits); unparseable (`yesterday`, `2024-13-45T00:00:00Z`, `03/01/2024`, `2024-02-30`);
  empty strings and missing keys / nulls (`missing_timestamp`);
* sessions whose `started_at` is empty or null, so `ended_at` is used, or both, so
  `created_at` is; sessions whose `started_at` is unparseable while `ended_at` is fine
  (no fall-through);
* duplicate canonical rows: the same id re-ingested with a later `created_at` and a
  changed field (sometimes written first in the file, sometimes with a `-05:00` offset
  so that comparing the strings would pick the wrong row); exact duplicates; equal
  `created_at` with different content (ties break on content);
* missing record ids: key absent, `null` and `""` (never collapsed as duplicates);
* sessions, messages and system events pointing at unknown `contact_id`s;
* orphans: emails that match no contact; messages and system events with neither a
  `contact_id` nor an email; outbound mail with no recipient, inbound mail with no sender;
* mail both inbound and outbound; subjects empty (`""`), null, longer than 50
  characters, and with non-ASCII characters and an emoji inside the first 50.

The output depends only on `DemoSize` (seed included) and `now`. It is streamed: rows
are written in chunks as they are made, per-contact state is a few fields, and memory
does not grow with the number of events.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import IO

PRACTICE_EMAILS = ("hello@mindfulpractice.example", "admin@mindfulpractice.example")

EVENT_TABLES = (
    "measurement_events",
    "clinical_sessions",
    "email_events",
    "messages",
    "system_events",
)

DAY = 86_400
SPAN_DAYS = 730  # events span the two years before `now`
FLUSH_ROWS = 5_000  # rows buffered across tables before a write (and a progress call)
TRAP_PERIOD = 200  # a trap deck holds this many cards: one card = 0.5% of the rows


@dataclass
class DemoSize:
    contacts: int = 600
    events: int = 24_000  # approximate total rows across the five event tables
    seed: int = 7


# --------------------------------------------------------------------------- vocabulary

FIRST_NAMES = (
    "Zoë", "Łukasz", "Søren", "Amelia", "Oliver", "Aisha", "Mateo", "Chloé", "Siobhán",
    "Björn", "Priya", "Noah", "Mia", "José", "Ingrid", "Kwame", "Fatima", "Liam", "Hannah",
    "Dmitri", "Yuki", "Émile", "Ana", "Tomás", "Grace", "Ethan", "Leila", "Niamh", "Jonas",
    "Maëlle", "Ahmed", "Olivia", "Sophie", "Jack", "Isla", "Ravi", "Mei", "Pádraig",
    "Agnieszka", "Chidi",
)  # fmt: skip
LAST_NAMES = (
    "Nguyễn", "Kowalski", "Østergaard", "Müller", "O'Brien", "García", "Smith", "Jones",
    "Patel", "Okafor", "Williams", "Brown", "Taylor", "Nowak", "Andersen", "Novák", "Dubois",
    "Rossi", "Kim", "Chen", "Murphy", "Wilson", "Hughes", "Lefèvre", "Schröder", "Dvořák",
    "Şahin", "Evans", "Walsh", "Papadopoulos", "Ó Súilleabháin", "Lindqvist", "Yılmaz",
    "Moreau", "Van der Berg",
)  # fmt: skip
CONTACT_DOMAINS = (
    "gmail.com", "gmail.com", "gmail.com", "outlook.com", "icloud.com", "proton.me",
    "hotmail.co.uk", "btinternet.com",
)  # fmt: skip
# Orphan senders/recipients: no contact ever uses these domains.
STRANGER_ADDRESSES = (
    "referrals@northside-gp.example",
    "claims@healthcover-insurance.example",
    "newsletter@bps-digest.example",
    "no-reply@calendly.example",
    "accounts@stripe.example",
)
STRANGER_DOMAIN = "yahoo.com"

STAGES = (("active", 0.65), ("discharged", 0.22), ("lead", 0.13))
CLIENT_TYPES = (("individual", 0.75), ("couple", 0.12), ("child", 0.10), ("family", 0.03))

SESSION_STATUSES = ("Session Completed",) * 17 + ("Client Cancelled", "No Show")
MEASURES = (
    # measure_id, measure_version, binding_id, binding_version, form_id
    ("phq9", "1.0", "bind_phq9_adult", "3", "1FAIpQLSc-phq9-intake-form"),
    ("gad7", "1.0", "bind_gad7_adult", "2", "1FAIpQLSd-gad7-weekly-form"),
    ("core10", "2.1", "bind_core10_review", "1", "1FAIpQLSe-core10-review-form"),
)
SUBJECTS = (
    "Appointment confirmation",
    "Rescheduling Thursday",
    "Your invoice",
    "Intake paperwork",
    "Cancellation",
    "Running late",
    "Letter for my GP",
    "Receipt for last month",
    "Your session summary and the worksheet we discussed in today's session",
    "Form reminder: please complete your PHQ-9 and GAD-7 questionnaires before Monday",
    "Question about my insurance claim and whether the practice can send a superbill",
    "Déjà vu 🙏 — can we move next week’s session to Friday afternoon instead, please?",
    "Référence : attestation de suivi pour la mutuelle de Zoë (année 2024 complète)",
    "Welcome to the practice — what to expect in your first session with us",
)
MESSAGE_BODIES = (
    "Hi, running 5 minutes late, sorry!",
    "Can we move Thursday to the afternoon?",
    "Thanks, see you next week 😊",
    "Reminder: your session is tomorrow at 14:00. Reply C to cancel.",
    "Merci beaucoup — à jeudi",
    "Please complete the short questionnaire before your session: https://forms.example/q",
    "Got it, thank you",
    "Is there parking near the practice?",
    "",
)
MESSAGE_CHANNELS = ("sms", "sms", "sms", "whatsapp", "whatsapp")
SYSTEM_EVENTS = ("Appointment Reminder Sent",) * 5 + ("Form Reminder Sent",) * 4
SYSTEM_ACTORS = ("life_cli", "life_cli", "scheduler", "admin@mindfulpractice.example")
GMAIL_LABELS_IN = (["INBOX", "UNREAD"], ["INBOX", "IMPORTANT"], ["INBOX"], ["CATEGORY_PERSONAL"])
OUTLOOK_LABELS_IN = (["Inbox"], ["Inbox", "Flagged"], [])

OFFSETS_MIN = (120, -300, 60, 330, -480, -240)  # +02:00, -05:00, +01:00, +05:30, ...
BAD_TIMESTAMPS = (
    "yesterday",
    "2024-13-45T00:00:00Z",
    "03/01/2024",
    "2024-02-30T10:00:00Z",
    "2024-03-01T25:00:00Z",
    "1 March 2024 10:00",
)

# Share of a contact's events per table, by stage: forms, sessions, emails, messages, system.
CLIENT_MIX = (0.16, 0.36, 0.24, 0.16, 0.08)
LEAD_MIX = (0.0, 0.0, 0.50, 0.35, 0.15)

# Trap decks (cards per TRAP_PERIOD rows). Every event table gets the common ones.
COMMON_TRAPS = {
    "ts_offset": 3,
    "ts_naive_space": 2,
    "ts_naive_t": 2,
    "ts_date_only": 1,
    "ts_padded": 1,
    "ts_rfc_forms": 1,
    "ts_bad": 2,
    "ts_empty": 1,
    "ts_missing": 1,
    "id_missing": 2,
    "dup_later": 3,
    "dup_exact": 1,
    "dup_tie": 1,
}
# Duplicate rows come on top of a contact's events: the budget leaves room for them.
DUPLICATE_SHARE = sum(n for t, n in COMMON_TRAPS.items() if t.startswith("dup_")) / TRAP_PERIOD
EMAIL_ID_TRAPS = {"email_case": 3, "orphan": 3, "no_identity": 1}
TABLE_TRAPS: dict[str, dict[str, int]] = {
    "measurement_events": EMAIL_ID_TRAPS,
    "clinical_sessions": {"unknown_contact": 3, "start_empty": 3, "start_end_empty": 2},
    "email_events": {
        **EMAIL_ID_TRAPS,
        "subject_empty": 3,
        "subject_null": 1,
        "practice_case": 2,
    },
    "messages": {**EMAIL_ID_TRAPS, "unknown_contact": 3},
    "system_events": {**EMAIL_ID_TRAPS, "unknown_contact": 3},
}

_ABSENT = object()  # marks a key to drop from a row (a missing field, not a null)


# --------------------------------------------------------------------------- helpers


def _make_encoder() -> Callable[[dict[str, object]], str]:
    """`json.dumps(row, ensure_ascii=False)`, minus the per-call encoder set-up.

    `json.dumps` builds a new encoder for every call with non-default arguments; here
    the C encoder is built once (the public encoder is the fallback where it is absent).
    The output is the same text, byte for byte.
    """
    c_make = getattr(json.encoder, "c_make_encoder", None)
    c_string = getattr(json.encoder, "c_encode_basestring", None)
    if c_make is None or c_string is None:
        return json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    chunks = c_make(None, None, c_string, None, ": ", ", ", False, False, True)
    return lambda row: "".join(chunks(row, 0))


_encode = _make_encoder()


_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae",
                       "ı": "i", "đ": "d", "'": "", " ": "", "-": ""})  # fmt: skip


def ascii_fold(name: str) -> str:
    """`Łukasz Nguyễn` -> `lukasznguyen`: the ASCII local part of an email address."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_FOLD))
    return "".join(ch for ch in decomposed if ch.isascii()).lower()


def _weighted(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    r = rng.random()
    for value, share in options:
        r -= share
        if r < 0:
            return value
    return options[-1][0]


def _case_variant(email: str, k: int) -> str:
    """The same address as people type it: mixed case and/or padded with spaces."""
    local, _, domain = email.partition("@")
    variants = (
        f"{local.capitalize()}@{domain}",
        f" {email} ",
        email.upper(),
        f"{local.title()}@{domain.capitalize()}  ",
        f"  {local}@{domain.upper()}",
    )
    return variants[k % len(variants)]


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@cache
def _seconds_of_day() -> tuple[str, ...]:
    """The `HH:MM:SS` text of every second of a day: 86,400 short strings, built once."""
    return tuple(
        f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
    )


def _iso_day(days_since_epoch: int) -> str:
    return date.fromordinal(_EPOCH_ORDINAL + days_since_epoch).isoformat()


class _Clock:
    """Fast timestamp text for integer epoch seconds, in the styles sources use."""

    def __init__(self, now: datetime):
        self.now = int(now.timestamp())
        self.earliest = self.now - SPAN_DAYS * DAY
        self.first_day = self.earliest // DAY - 60
        self.days = [_iso_day(d) for d in range(self.first_day, self.now // DAY + 60)]
        self.n_days = len(self.days)
        self.hms = _seconds_of_day()

    def z(self, ts: int, suffix: str = "Z", sep: str = "T") -> str:
        """`2024-03-01T10:00:00Z`; `suffix` and `sep` give the other styles."""
        d, s = divmod(ts, DAY)
        i = d - self.first_day
        day = self.days[i] if 0 <= i < self.n_days else _iso_day(d)
        return f"{day}{sep}{self.hms[s]}{suffix}"

    def z_millis(self, ts: int, frac: int) -> str:
        return self.z(ts, f".{frac % 1000:03d}Z")

    def z_micros(self, ts: int, frac: int) -> str:
        return self.z(ts, f".{frac % 1_000_000:06d}Z")

    def offset(self, ts: int, minutes: int) -> str:
        """The same instant as local time at a UTC offset, e.g. `...T12:00:00+02:00`."""
        sign = "+" if minutes >= 0 else "-"
        h, m = divmod(abs(minutes), 60)
        return self.z(ts + minutes * 60, f"{sign}{h:02d}:{m:02d}")

    def naive(self, ts: int, sep: str) -> str:
        return self.z(ts, "", sep)

    def date_only(self, ts: int) -> str:
        return self.z(ts)[:10]

    def rfc_form(self, ts: int, k: int, frac: int) -> str:
        """Valid RFC 3339 that strict parsers refuse: lower-case `t`/`z`, 7 fractional
        digits (.NET), 9 (Go); the ledger keeps the first 6 digits."""
        if k % 3 == 0:
            return self.z(ts, "z", "t")
        if k % 3 == 1:
            return self.z(ts, f".{frac % 10_000_000:07d}Z")
        return self.z(ts, f".{frac:09d}+00:00")


class _Deck:
    """Deals trap names (None = no trap) in exact proportions, shuffled per period.

    A deck of `period` cards: each trap's count of them, the rest None. A rare source
    takes a shorter period so that even a small output deals the whole deck.
    """

    def __init__(self, rng: random.Random, traps: dict[str, int], period: int = TRAP_PERIOD):
        cards: list[str | None] = [name for name, n in traps.items() for _ in range(n)]
        if len(cards) > period:
            raise ValueError(f"{len(cards)} trap cards do not fit a deck of {period}")
        self.cards = cards + [None] * (period - len(cards))
        self.rng = rng
        self.hand: list[str | None] = []

    def draw(self) -> str | None:
        if not self.hand:
            self.hand = self.cards.copy()
            self.rng.shuffle(self.hand)
        return self.hand.pop()


class _Sink:
    """Buffers encoded lines per table and writes them in chunks; counts rows.

    Deferred lines (duplicates) are written after the next chunk, so a duplicate lands
    later in the file than the row it copies while memory stays bounded.
    """

    def __init__(
        self, directory: Path, tables: Sequence[str], progress: Callable[[int], None] | None
    ):
        self.files: dict[str, IO[str]] = {
            t: (directory / f"{t}.jsonl").open("w", encoding="utf-8", newline="\n") for t in tables
        }
        self.lines: dict[str, list[str]] = {t: [] for t in tables}
        self.deferred: dict[str, list[str]] = {t: [] for t in tables}
        self.rows: dict[str, int] = dict.fromkeys(tables, 0)
        self.pending = 0
        self.progress = progress

    def emit(self, table: str, line: str) -> None:
        self.lines[table].append(line)
        self.pending += 1
        if self.pending >= FLUSH_ROWS:
            self.flush()

    def defer(self, table: str, line: str) -> None:
        self.deferred[table].append(line)
        self.pending += 1

    def flush(self) -> None:
        written = 0
        for table, fh in self.files.items():
            lines = self.lines[table] + self.deferred[table]
            if lines:
                fh.write("\n".join(lines))
                fh.write("\n")
                self.rows[table] += len(lines)
                written += len(lines)
            self.lines[table] = []
            self.deferred[table] = []
        self.pending = 0
        if written and self.progress:
            self.progress(written)

    def close(self) -> None:
        self.flush()
        for fh in self.files.values():
            fh.close()


# --------------------------------------------------------------------------- contacts


@dataclass(slots=True)
class _Contact:
    """The little a contact's events need; one per contact, none per event."""

    index: int
    contact_id: str
    email: str | None  # trimmed and lower-cased; what sources mostly write
    first_name: str
    last_name: str
    stage: str
    client_type: str | None
    end_days: float  # days before `now` of the contact's last activity
    forms: bool  # submits questionnaires at all
    weight: float  # share of the event budget
    email_raw: str | None = None  # as written in `contacts` (may be mixed-case/padded)


def _contact_id(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _end_days(rng: random.Random, stage: str) -> float:
    """How long ago the contact's activity ended: recent, drifting, quiet or discharged."""
    r = rng.random()
    if stage == "active":
        if r < 0.75:
            return rng.uniform(0.05, 4.0)
        if r < 0.85:
            return rng.uniform(5.0, 59.0)
        return rng.uniform(62.0, 400.0)  # gone quiet: nothing in the last 60 days
    if stage == "discharged":
        return rng.uniform(20.0, 700.0)
    return rng.uniform(0.05, 720.0)


def _make_contacts(rng: random.Random, n: int) -> list[_Contact]:
    contacts: list[_Contact] = []
    used: set[str] = set()
    weights = {"active": 1.0, "discharged": 0.7, "lead": 0.15}
    for i in range(n):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        stage = _weighted(rng, STAGES)
        email: str | None = _unique_email(rng, first, last, used)
        if (stage == "lead" and rng.random() < 0.05) or (i == n // 2 and n >= 50):
            email = None  # only ever phoned; one of them written as ""
        contacts.append(
            _Contact(
                index=i,
                contact_id=_contact_id(rng),
                email=email,
                first_name=first,
                last_name=last,
                stage=stage,
                client_type=None if stage == "lead" else _weighted(rng, CLIENT_TYPES),
                end_days=_end_days(rng, stage),
                forms=stage != "lead" and rng.random() >= 0.15,
                weight=weights[stage] * rng.uniform(0.5, 1.5),
            )
        )
    _share_emails(rng, contacts)
    for k, c in enumerate(contacts):
        if c.email_raw is not None:
            continue  # set when sharing
        c.email_raw = c.email
        if c.email and rng.random() < 0.02:
            c.email_raw = _case_variant(c.email, k)
        elif c.email is None and k == n // 2:
            c.email_raw = ""  # an empty string is a null
    return contacts


def _unique_email(rng: random.Random, first: str, last: str, used: set[str]) -> str:
    local = f"{ascii_fold(first)}.{ascii_fold(last)}"
    domain = rng.choice(CONTACT_DOMAINS)
    email, k = f"{local}@{domain}", 1
    while email in used:
        k += 1
        email = f"{local}{k}@{domain}"
    used.add(email)
    return email


def _share_emails(rng: random.Random, contacts: list[_Contact]) -> None:
    """Couples on one address: the second contact takes the first one's email."""
    eligible = [c for c in contacts if c.email and c.stage != "lead"]
    pairs = min(max(2, len(contacts) // 100), len(eligible) // 2)
    chosen = rng.sample(eligible, 2 * pairs)
    for k, (a, b) in enumerate(zip(chosen[::2], chosen[1::2], strict=True)):
        b.email = a.email
        b.email_raw = _case_variant(a.email, k) if k % 2 else a.email
        a.client_type = b.client_type = "couple"


def _contact_rows(rng: random.Random, clock: _Clock, contacts: list[_Contact]) -> list[str]:
    rows: list[str] = []
    for c in contacts:
        updated = clock.now - int(rng.uniform(0.0, max(c.end_days, 1.0)) * DAY)
        row = {
            "contact_id": c.contact_id,
            "email": c.email_raw,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "lifecycle_stage": c.stage,
            "client_type_code": c.client_type,
            "updated_at": clock.z(updated) if rng.random() > 0.05 else clock.offset(updated, 60),
        }
        rows.append(_encode(row))
        if rng.random() < 0.01 or c.index in (1, 2):
            # listed twice: an older copy from before the client was taken on
            older = {**row, "lifecycle_stage": "lead", "updated_at": clock.z(updated - 30 * DAY)}
            rows.insert(rng.randrange(len(rows) + 1), _encode(older))
    return rows


# --------------------------------------------------------------------------- events


class _Practice:
    """Generates each contact's events and writes them through the sink."""

    def __init__(self, rng: random.Random, clock: _Clock, sink: _Sink, known_ids: set[str]):
        self.rng = rng
        self.clock = clock
        self.sink = sink
        self.known_ids = known_ids
        self.decks = {t: _Deck(rng, {**COMMON_TRAPS, **TABLE_TRAPS[t]}) for t in EVENT_TABLES}
        self.serial = dict.fromkeys(EVENT_TABLES, 0)
        self.k = 0  # a running counter to vary cheap choices without random calls

    # -- shared pieces

    def _next_id(self, table: str, prefix: str) -> str:
        self.serial[table] += 1
        return f"{prefix}{self.serial[table]:08d}"

    def _created(self, ts: int) -> int:
        return min(ts + 30 + int(self.rng.random() * 7200), self.clock.now)

    def _unknown_contact_id(self) -> str:
        cid = _contact_id(self.rng)
        while cid in self.known_ids:
            cid = _contact_id(self.rng)
        return cid

    def _stranger(self) -> str:
        self.k += 1
        if self.k % 3:
            return STRANGER_ADDRESSES[self.k % len(STRANGER_ADDRESSES)]
        first, last = (
            FIRST_NAMES[self.k % len(FIRST_NAMES)],
            LAST_NAMES[self.k // 3 % len(LAST_NAMES)],
        )
        return f"{ascii_fold(first)}.{ascii_fold(last)}{self.k % 97}@{STRANGER_DOMAIN}"

    def _email(self, email: str | None, trap: str | None) -> str | None:
        """The contact's address as this source row writes it."""
        if trap == "orphan":
            return self._stranger()
        if trap == "no_identity":
            return None if self.rng.random() < 0.5 else ""
        if trap == "email_case" and email:
            self.k += 1
            return _case_variant(email, self.k)
        return email

    def _missing(self) -> object:
        self.k += 1
        return (_ABSENT, None, "")[self.k % 3]

    def _timestamp(self, trap: str | None, ts: int, canonical: str) -> object:
        """The event timestamp text for a row: canonical, or the trap's variant."""
        clock, rng = self.clock, self.rng
        if trap is None or not trap.startswith("ts_"):
            return canonical
        if trap == "ts_offset":
            return clock.offset(ts, OFFSETS_MIN[int(rng.random() * len(OFFSETS_MIN))])
        if trap == "ts_naive_space":
            return clock.naive(ts, " ")
        if trap == "ts_naive_t":
            return clock.naive(ts, "T")
        if trap == "ts_date_only":
            return clock.date_only(ts)
        if trap == "ts_padded":
            return f" {canonical}  "
        if trap == "ts_rfc_forms":
            self.k += 1
            return clock.rfc_form(ts, self.k, int(rng.random() * 1_000_000_000))
        if trap == "ts_bad":
            return BAD_TIMESTAMPS[int(rng.random() * len(BAD_TIMESTAMPS))]
        if trap == "ts_empty":
            return ""
        return _ABSENT if rng.random() < 0.5 else None  # ts_missing

    def _write(
        self,
        table: str,
        row: dict[str, object],
        trap: str | None,
        id_key: str,
        created: int,
        mutate: Callable[[dict[str, object]], None],
    ) -> None:
        """Write a row with its trap, the same way in every layout: the layout's own
        traps first (`_trap`), then the duplicate traps (`_emit_duplicated`), whose
        second version is the row's copy (`_copy`) with its record mutated (`_record_of`)
        and, re-ingested later, a later stamp (`_stamp_later`)."""
        if trap is None:
            self.sink.emit(table, _encode(row))
            return
        record = self._trap(table, row, trap, id_key)
        for key in [k for k, v in record.items() if v is _ABSENT]:
            del record[key]

        def second_version() -> dict[str, object]:
            copy = self._copy(table, row, record)
            mutate(self._record_of(table, copy))
            if trap == "dup_later":
                self._stamp_later(table, row, copy, self._later(created))
            return copy

        self._emit_duplicated(table, _encode(row), trap, second_version)

    # The flat layout's record is the row itself; `created_at` orders its duplicates.

    def _trap(self, table: str, row: dict[str, object], trap: str, id_key: str) -> dict:
        if trap == "id_missing":
            row[id_key] = self._missing()
        return row

    def _copy(self, table: str, row: dict[str, object], record: dict) -> dict[str, object]:
        return dict(row)

    def _record_of(self, table: str, row: dict[str, object]) -> dict[str, object]:
        return row

    def _stamp_later(
        self, table: str, row: dict[str, object], copy: dict[str, object], later: int
    ) -> None:
        self.k += 1
        copy["created_at"] = (
            self.clock.offset(later, -300) if self.k % 3 == 0 else self.clock.z(later)
        )

    def _later(self, created: int) -> int:
        """When a `dup_later` re-ingestion of a record created at `created` happened."""
        return created + 600 + int(self.rng.random() * 3 * 3600)

    def _winner_first(self, table: str) -> bool:
        """Whether a duplicated record's winning row comes first in the file."""
        return self.rng.random() < 0.4

    def _emit_duplicated(
        self, table: str, line: str, trap: str, second_version: Callable[[], dict[str, object]]
    ) -> None:
        """Write a row's line with its duplicate trap, the same for every layout: none (a
        trap of another kind), the very same line twice (`dup_exact`), or another version
        of the record (`second_version()`, e.g. re-ingested later) in either order."""
        if not trap.startswith("dup_"):
            self.sink.emit(table, line)
            return
        if trap == "dup_exact":
            self.sink.emit(table, line)
            self.sink.defer(table, line)
            return
        first, second = line, _encode(second_version())
        if self._winner_first(table):
            first, second = second, first
        self.sink.emit(table, first)
        self.sink.defer(table, second)

    # -- one contact

    def contact(self, c: _Contact, budget: int) -> None:
        counts = self._plan(c, budget)
        n_forms, n_sessions, n_emails, n_messages, n_system = counts
        end = self.clock.now - int(c.end_days * DAY)
        length = self._window_days(c, n_sessions)
        start = max(end - int(length * DAY), self.clock.earliest)
        if n_sessions:
            self._sessions(c, n_sessions, start, end)
        for ts in self._times(n_forms, start, end):
            self._form(c, ts)
        for i, ts in enumerate(self._times(n_emails, start, end)):
            self._mail(c, ts, i)
        for ts in self._times(n_messages, start, end):
            self._message(c, ts)
        for i, ts in enumerate(self._times(n_system, start, end)):
            intake = i == 0 and c.stage != "lead"
            self._system(c, start + 3600 if intake else ts, intake)

    def _times(self, n: int, start: int, end: int) -> list[int]:
        """`n` sorted instants between start and end, in the practice's waking hours."""
        rnd, now, earliest = self.rng.random, self.clock.now, self.clock.earliest
        times = []
        for _ in range(n):
            ts = start + int(rnd() * (end - start))
            ts += 25_200 + int(rnd() * 50_400) - ts % DAY  # 07:00-21:00 UTC that day
            times.append(max(ts if ts <= now else ts - DAY, earliest))
        times.sort()
        return times

    def _plan(self, c: _Contact, budget: int) -> list[int]:
        mix = list(LEAD_MIX if c.stage == "lead" else CLIENT_MIX)
        if not c.forms or not c.email:
            mix[1] += mix[0]
            mix[0] = 0.0
        if not c.email:
            mix[3] += mix[2]
            mix[2] = 0.0
        counts = [0, 0, 0, 0, 0]
        rnd = self.rng.random
        for _ in range(budget):
            r = rnd()
            for t, share in enumerate(mix):
                r -= share
                if r < 0:
                    counts[t] += 1
                    break
            else:
                counts[4] += 1
        return counts

    def _window_days(self, c: _Contact, n_sessions: int) -> float:
        if c.stage == "lead":
            return self.rng.uniform(2.0, 40.0)
        weeks = max(n_sessions, 2) + self.rng.uniform(0.0, 2.0)
        return min(weeks * 7.0, SPAN_DAYS - c.end_days)

    # -- tables

    def _sessions(self, c: _Contact, n: int, start: int, end: int) -> None:
        rng, clock = self.rng, self.clock
        spacing = (end - start) / n
        hour = 9 + int(rng.random() * 10)
        for k in range(n):
            day = (end - int((n - 1 - k) * spacing)) // DAY
            ts = max(day * DAY + hour * 3600 + int(rng.random() * 4) * 900, clock.earliest)
            if ts > clock.now:
                ts -= DAY
            self._session(c, ts, k + 1)

    def _session(self, c: _Contact, ts: int, num: int) -> None:
        trap = self.decks["clinical_sessions"].draw()
        status = SESSION_STATUSES[int(self.rng.random() * len(SESSION_STATUSES))]
        z = self.clock.z
        created = self._created(ts + 3000)
        row: dict[str, object] = {
            "session_id": self._next_id("clinical_sessions", "ses_"),
            "contact_id": self._unknown_contact_id() if trap == "unknown_contact" else c.contact_id,
            "status": status,
            "session_num": num,
            "idem_key": f"dv:{c.contact_id[:8]}:{num}",
            "started_at": self._timestamp(trap, ts, z(ts)),
            "ended_at": z(ts + 3000) if status == "Session Completed" else None,
            "created_at": z(created),
        }
        if trap in ("start_empty", "start_end_empty"):
            row["started_at"] = "" if self.rng.random() < 0.6 else None
            row["ended_at"] = "" if trap == "start_end_empty" else z(ts + 3000)
        elif trap in ("ts_empty", "ts_missing"):
            row["ended_at"] = row["created_at"] = row["started_at"]
        self._write("clinical_sessions", row, trap, "session_id", created, self._mutate_session)

    @staticmethod
    def _mutate_session(row: dict[str, object]) -> None:
        completed = row["status"] == "Session Completed"
        row["status"] = "Client Cancelled" if completed else "Session Completed"

    def _form(self, c: _Contact, ts: int) -> None:
        trap = self.decks["measurement_events"].draw()
        measure_id, version, binding, binding_version, form_id = MEASURES[
            int(self.rng.random() * len(MEASURES))
        ]
        serial = self.serial["measurement_events"] + 1
        created = self._created(ts)
        row: dict[str, object] = {
            "measurement_event_id": self._next_id("measurement_events", "mev_"),
            "subject_id": self._email(c.email, trap),
            "measure_id": measure_id,
            "measure_version": version,
            "binding_id": binding,
            "binding_version": binding_version,
            "form_id": form_id,
            "form_submission_id": f"sub_{serial * 7919 % 1_000_003:07d}_{serial:x}",
            "timestamp": self._timestamp(trap, ts, self.clock.z_millis(ts, serial * 37)),
            "created_at": self.clock.z(created),
        }
        self._write(
            "measurement_events", row, trap, "measurement_event_id", created, self._mutate_form
        )

    @staticmethod
    def _mutate_form(row: dict[str, object]) -> None:
        row["binding_version"] = str(int(str(row["binding_version"])) + 1)

    def _mail(self, c: _Contact, ts: int, i: int) -> None:
        trap = self.decks["email_events"].draw()
        rng = self.rng
        gmail = rng.random() < 0.6
        practice = PRACTICE_EMAILS[0] if gmail else PRACTICE_EMAILS[1]
        client = self._email(c.email, trap)
        subject: str | None = SUBJECTS[int(rng.random() * len(SUBJECTS))]
        if trap == "practice_case" or rng.random() < 0.55:  # outbound: practice -> client
            sender: str | None = practice.title() if trap == "practice_case" else practice
            to: list[str] = [] if client is None or client == "" else [client]
            if to and rng.random() < 0.1:
                to.append(PRACTICE_EMAILS[1] if gmail else PRACTICE_EMAILS[0])
            labels: list[str] | None = ["SENT"] if gmail else ["Sent Items"]
        else:  # inbound: the client writes to the practice
            sender, to = client, [practice]
            pool = GMAIL_LABELS_IN if gmail else OUTLOOK_LABELS_IN
            labels = list(pool[int(rng.random() * len(pool))])
            subject = f"Re: {subject}" if rng.random() < 0.4 else subject
        if trap == "subject_empty":
            subject = ""
        elif trap == "subject_null":
            subject, labels = None, None
        thread = f"18{c.index:07x}{i // 3:04x}" if gmail else f"AAQkAD{c.index:07d}{i // 3:04d}="
        created = self._created(ts)
        row: dict[str, object] = {
            "email_event_id": self._next_id("email_events", "eml_" if gmail else "olk_"),
            "provider": "gmail" if gmail else "outlook",
            "from_email": sender,
            "to_emails": to,
            "subject": subject,
            "thread_id": thread,
            "labels": labels,
            "sent_at": self._timestamp(trap, ts, self.clock.z(ts)),
            "created_at": self.clock.z(created),
        }
        self._write("email_events", row, trap, "email_event_id", created, self._mutate_mail)

    @staticmethod
    def _mutate_mail(row: dict[str, object]) -> None:
        labels = row.get("labels")
        row["labels"] = [*labels, "IMPORTANT"] if isinstance(labels, list) else ["IMPORTANT"]

    def _identity(self, c: _Contact, trap: str | None) -> tuple[str | None, str | None]:
        """(contact_id, contact_email) for a message or system event."""
        if trap == "unknown_contact":
            return self._unknown_contact_id(), None
        if trap in ("orphan", "no_identity", "email_case") and (c.email or trap != "email_case"):
            return None, self._email(c.email, trap)
        r = self.rng.random()
        if c.email and r < 0.2:
            return None, c.email
        if c.email and r < 0.35:
            return c.contact_id, c.email
        return c.contact_id, None

    def _message(self, c: _Contact, ts: int) -> None:
        trap = self.decks["messages"].draw()
        rnd = self.rng.random
        contact_id, email = self._identity(c, trap)
        serial = self.serial["messages"] + 1
        created = self._created(ts)
        row: dict[str, object] = {
            "message_id": self._next_id("messages", "msg_"),
            "channel": MESSAGE_CHANNELS[int(rnd() * len(MESSAGE_CHANNELS))],
            "direction": "inbound" if rnd() < 0.5 else "outbound",
            "contact_id": contact_id,
            "contact_email": email,
            "body_preview": MESSAGE_BODIES[int(rnd() * len(MESSAGE_BODIES))] or None,
            "sent_at": self._timestamp(trap, ts, self.clock.z_micros(ts, serial * 104_729)),
            "created_at": self.clock.z(created),
        }
        self._write("messages", row, trap, "message_id", created, self._mutate_message)

    @staticmethod
    def _mutate_message(row: dict[str, object]) -> None:
        row["body_preview"] = f"{row.get('body_preview') or ''} (edited)".strip()

    def _system(self, c: _Contact, ts: int, intake: bool) -> None:
        trap = self.decks["system_events"].draw()
        rnd = self.rng.random
        contact_id, email = self._identity(c, trap)
        created = self._created(ts)
        row: dict[str, object] = {
            "system_event_id": self._next_id("system_events", "sys_"),
            "contact_id": contact_id,
            "contact_email": email,
            "event_name": "Intake Completed"
            if intake
            else SYSTEM_EVENTS[int(rnd() * len(SYSTEM_EVENTS))],
            "actor": SYSTEM_ACTORS[int(rnd() * len(SYSTEM_ACTORS))],
            "occurred_at": self._timestamp(trap, ts, self.clock.z(ts, "+00:00")),
            "created_at": self.clock.z(created),
        }
        self._write("system_events", row, trap, "system_event_id", created, self._mutate_system)

    @staticmethod
    def _mutate_system(row: dict[str, object]) -> None:
        row["actor"] = "scheduler" if row["actor"] != "scheduler" else "life_cli"


# --------------------------------------------------------------------------- entry point


def _budgets(contacts: list[_Contact], events: int) -> list[int]:
    """Split `events` over contacts by weight; the parts sum to `events` exactly."""
    total = sum(c.weight for c in contacts) or 1.0
    budgets, cumulative, assigned = [], 0.0, 0
    for c in contacts:
        cumulative += c.weight
        target = round(events * cumulative / total)
        budgets.append(target - assigned)
        assigned = target
    return budgets


def _default_now() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _start(
    directory: Path, size: DemoSize, now: datetime | None
) -> tuple[Path, random.Random, _Clock, list[_Contact]]:
    """What both layouts' demos start from: the folder (made), the seeded random source,
    the clock (`now`, default: the current hour, UTC; naive is UTC) and the contacts."""
    now = _default_now() if now is None else now
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(size.seed)  # noqa: S311 - synthetic data, not security
    return directory, rng, _Clock(now), _make_contacts(rng, max(size.contacts, 0))


def write_demo_data(
    directory: Path,
    size: DemoSize = DemoSize(),
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Write the six canonical tables as `directory/<table>.jsonl`; return rows per table.

    `progress(n)` is called with the number of event rows written since its last call.
    The output is a function of `size` and `now` (default: the current hour, UTC; a
    naive `now` is read as UTC).
    """
    directory, rng, clock, contacts = _start(directory, size, now)
    contact_lines = _contact_rows(rng, clock, contacts)
    with (directory / "contacts.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(f"{line}\n" for line in contact_lines)
    rows = {"contacts": len(contact_lines)}
    del contact_lines

    sink = _Sink(directory, EVENT_TABLES, progress)
    try:
        practice = _Practice(rng, clock, sink, {c.contact_id for c in contacts})
        budgets = _budgets(contacts, round(max(size.events, 0) / (1 + DUPLICATE_SHARE)))
        for c, budget in zip(contacts, budgets, strict=True):
            practice.contact(c, budget)
    finally:
        sink.close()
    rows.update(sink.rows)
    return rows

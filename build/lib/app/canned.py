"""The canned queries: one declaration per data route (Datasette's canned queries are the
model). Everything that differs between routes is here; one generic handler
(app/answer.py) runs them all.

A declaration says: the route, its SQL file (or variants, picked by which filter is
given), its parameters and how they bind (app/params.py), the sort key its cursor carries
and which SQL parameters that key binds, whether it runs on the event loop (an index probe
of one contact) or in the thread pool under the query time limit, and whether its whole
answer is kept for the cursor's life (app/answers.py).

Every canned query returns its sort key columns and `item`: the response item as JSON
text, built by SQLite (timestamps in RFC 3339, emails normalised, counts filled in), so a
page is the items joined, never parsed or validated again. A route whose every page would
aggregate over all contacts (needs-form, gone-quiet) is two files instead: the order (its
sort key rows, computed once per answer and kept) and the items of one page (`items`,
given the page's rows as the JSON array :rows). Besides the declared
parameters every query may use :as_of (resolved: given, the cursor's, or now) and
:zero_counts (the mirror's event types as a JSON object of zeros).

Adding a route: one SQL file in queries/api/, one declaration here, one response model in
app/models.py; then register it in its resource's router (app/routers/).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from app import models
from app.params import (
    ALLOW_UNSEEN,
    AS_OF,
    CONTACT_ID_PATH,
    CURSOR,
    EVENT_TYPE,
    LIFECYCLE_STAGE,
    LIMIT,
    SINCE,
    UNTIL,
    Days,
    EventType,
    Known,
    ParamSet,
    Text,
    days_param,
)


@dataclass(frozen=True)
class Variant:
    """One SQL file of a route. `when`: the parameter whose presence picks this variant
    (None: the default). `long`: it can scan many rows, so it runs in the thread pool under
    the query time limit; otherwise on the event loop, without a progress handler."""

    sql: str
    long: bool
    when: str | None = None


@dataclass(frozen=True)
class KeyPart:
    """One part of a list's sort key: the result `column` it is read from, the SQL
    parameter the cursor `bind`s it to, and its `shape` (app/pagination.py): "ts" a mirror
    timestamp, "ts?" a timestamp or "" for none, "str" any string."""

    column: str
    bind: str
    shape: str


@dataclass(frozen=True)
class Canned:
    name: str
    path: str
    params: ParamSet
    variants: tuple[Variant, ...]
    model: type[BaseModel]
    summary: str
    description: str
    key: tuple[KeyPart, ...] = ()  # empty: the answer is one item, not a page
    fixed: Mapping[str, Any] = field(default_factory=dict)  # bound as given
    whole: bool = False  # the order is kept for the cursor's life (app/answers.py)
    items: str | None = None  # with `whole`: builds a page's items from its order rows
    must_exist: str | None = None  # run on an empty page: no row means 404 (unknown contact)
    cursor_kind: str = ""  # routes sharing a sort key may share cursors ("" = name)
    # Checked against the build once the snapshot names it (app/answer.py); set below.
    event_types: tuple[EventType, ...] = field(init=False)
    known: tuple[Known, ...] = field(init=False)

    def __post_init__(self) -> None:
        params = self.params.params
        object.__setattr__(
            self, "event_types", tuple(p for p in params if isinstance(p, EventType))
        )
        object.__setattr__(self, "known", tuple(p for p in params if isinstance(p, Known)))

    @property
    def kind(self) -> str:
        return self.cursor_kind or self.name

    @property
    def is_list(self) -> bool:
        return bool(self.key)

    @property
    def shape(self) -> tuple[str, ...]:
        return tuple(part.shape for part in self.key)

    @property
    def cutoff_moves_with_as_of(self) -> bool:
        """Whether a `days` look-back makes the answer move with as_of (and so with now)."""
        return any(isinstance(p, Days) for p in self.params.params)

    def variant(self, values: Mapping[str, Any]) -> Variant:
        for variant in self.variants:
            if variant.when is None or values.get(variant.when) is not None:
                return variant
        raise AssertionError(f"{self.name}: no default variant")  # pragma: no cover

    def filters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values that pick the rows (not the page): the cursor's fingerprint."""
        found = {p.name: values[p.name] for p in self.params.params if p.filter}
        return {**found, **self.fixed}

    def binds(self, values: Mapping[str, Any], as_of: str, zero_counts: str) -> dict[str, Any]:
        out: dict[str, Any] = {"as_of": as_of, "zero_counts": zero_counts, **self.fixed}
        for param in self.params.params:
            out.update(param.binds(values[param.name], as_of))
        return out

    def after_binds(self, after: tuple[str, ...] | None) -> dict[str, Any]:
        return {part.bind: None if after is None else after[i] for i, part in enumerate(self.key)}


MEASURE = Known(
    "measure",
    "Only forms with this event_name (the measure id), e.g. `phq9`. A measure no form event "
    "of the mirror has is a 400 naming the known ones (a typo must not make every contact "
    '"need" a form), unless `allow_unseen=true`.',
    example="phq9",
    known="measure",
    what="form event's measure",
)

NEEDS_FORM = Canned(
    name="needs_form",
    path="/contacts/needs-form",
    params=ParamSet((days_param(14), MEASURE, LIFECYCLE_STAGE, ALLOW_UNSEEN, AS_OF, LIMIT, CURSOR)),
    variants=(Variant("needs_form", long=True),),
    items="needs_form_items",
    model=models.NeedsFormPage,
    summary="Contacts due a form",
    description=(
        "Contacts whose latest `form` event (with `event_name` = `measure`, if given) is "
        "before the cut-off `as_of - days`, or who have none. Ordered by `last_form_at` "
        "(nulls first), then `contact_id`. `email` is trimmed and lower-cased, as "
        "`contact_email` is."
    ),
    key=(KeyPart("last_form_at", "after_at", "ts?"), KeyPart("contact_id", "after_id", "str")),
    whole=True,
)

GONE_QUIET = Canned(
    name="gone_quiet",
    path="/contacts/gone-quiet",
    params=ParamSet(
        (days_param(30), EVENT_TYPE, LIFECYCLE_STAGE, ALLOW_UNSEEN, AS_OF, LIMIT, CURSOR)
    ),
    # Two files, not one with an optional type: see gone_quiet_by_type.sql.
    variants=(
        Variant("gone_quiet_by_type", long=True, when="event_type"),
        Variant("gone_quiet", long=True),
    ),
    items="gone_quiet_items",
    model=models.GoneQuietPage,
    summary="Contacts who have gone quiet",
    description=(
        "Contacts with at least one event (of `event_type`, if given) whose latest is before "
        "the cut-off `as_of - days`, with that latest event. Ordered by `last_event_at`, "
        "then `contact_id`. `email` is trimmed and lower-cased, as `contact_email` is."
    ),
    key=(KeyPart("last_event_at", "after_at", "ts"), KeyPart("contact_id", "after_id", "str")),
    whole=True,
)

CHANNEL_SUMMARY = Canned(
    name="channel_summary",
    path="/contacts/channel-summary",
    params=ParamSet((LIFECYCLE_STAGE, ALLOW_UNSEEN, AS_OF, LIMIT, CURSOR)),
    variants=(Variant("channel_summary", long=True),),
    model=models.ChannelSummaryPage,
    summary="Event counts per contact",
    description=(
        "One row per contact, by `contact_id`: events per type (every event type of the "
        "mirror, 0 included; GET /status lists them), the total and the latest event's "
        "timestamp. Events after `as_of` do not count."
    ),
    key=(KeyPart("contact_id", "after_id", "str"),),
)

CONTACT_SUMMARY = Canned(
    name="contact_summary",
    path="/contacts/{contact_id}/summary",
    params=ParamSet((CONTACT_ID_PATH, AS_OF)),
    variants=(Variant("contact_summary", long=False),),
    model=models.ChannelSummaryRow,
    summary="One contact's event counts",
    description="The channel-summary row of one contact; 404 for an unknown contact.",
)

_EVENT_KEY = (
    KeyPart("event_timestamp", "after_ts", "ts"),
    KeyPart("source_system", "after_system", "str"),
    KeyPart("source_record_id", "after_record_id", "str"),
)

TIMELINE = Canned(
    name="timeline",
    path="/contacts/{contact_id}/timeline",
    params=ParamSet((CONTACT_ID_PATH, EVENT_TYPE, SINCE, UNTIL, AS_OF, LIMIT, CURSOR)),
    variants=(Variant("timeline", long=False),),
    model=models.EventPage,
    summary="One contact's events",
    description=(
        "The contact's ledger rows, newest first (ties: `source_system`, then "
        "`source_record_id`), each with every ledger column and `payload` as an object. "
        "`since` is inclusive, `until` exclusive; events after `as_of` do not count. "
        "404 for an unknown contact."
    ),
    key=_EVENT_KEY,
    fixed={"event_name": None, "event_source": None},
    must_exist="contact_exists",
    cursor_kind="events",  # the sort key and filters of /events?contact_id=...
)

EVENTS = Canned(
    name="events",
    path="/events",
    params=ParamSet(
        (
            Text("contact_id", "Only this contact's events.", example="c-000123"),
            EVENT_TYPE,
            Text("event_name", "Exact event_name.", example="Form Reminder Sent"),
            Text("event_source", "Exact event_source.", example="life_cli"),
            SINCE,
            UNTIL,
            AS_OF,
            LIMIT,
            CURSOR,
        )
    ),
    # Canned variants of one query, each with its filter as a plain equality an index can
    # use: one contact (an index probe), one event name, or neither (the time index).
    variants=(
        Variant("timeline", long=False, when="contact_id"),
        Variant("events_by_name", long=True, when="event_name"),
        Variant("events", long=True),
    ),
    model=models.EventPage,
    summary="Search the ledger",
    description=(
        "Ledger rows matching all given filters, newest first (ties: `source_system`, then "
        '`source_record_id`): "did we send that reminder?". Orphan events (no '
        "`contact_id`) appear here and only here. `since` is inclusive, `until` exclusive; "
        "events after `as_of` do not count. An unknown `contact_id` gives an empty list."
    ),
    key=_EVENT_KEY,
)

CANNED: tuple[Canned, ...] = (
    NEEDS_FORM,
    GONE_QUIET,
    CHANNEL_SUMMARY,
    CONTACT_SUMMARY,
    TIMELINE,
    EVENTS,
)

"""The canned queries: one declaration per data route (Datasette's canned queries are the
model). Everything that differs between routes is here; one generic handler
(app/canned/handler.py) runs them all.

A declaration says: the route, its SQL file (or variants, picked by which filter is
given), its parameters and how they bind (app/canned/params.py), the sort key its cursor carries
and which SQL parameters that key binds, whether it runs on the event loop (an index probe
of one contact) or in the thread pool under the query time limit, and whether its whole
answer is kept for the cursor's life (app/canned/kept.py).

Every canned query returns its sort key columns and `item`: the response item as JSON
text, built by SQLite (timestamps in RFC 3339, emails normalised, counts filled in), so a
page is the items joined, never parsed or validated again. A route whose every page would
aggregate over all contacts keeps its whole answer's order for the cursor's life
(`whole`): its rows carry their items (no-session), or, where building every item would
cost too much, it is two files (needs-form, gone-quiet): the order (its sort key rows)
and the items of one page (`items`, given the page's rows as the JSON array :rows).
Besides the declared
parameters every query may use :as_of (resolved: given, the cursor's, or now) and
:zero_counts (the mirror's event types as a JSON object of zeros).

Adding a route: one SQL file in queries/api/, one declaration here (in `CANNED`), one
response model in app/canned/models.py. Nothing else: `ROUTES` below is the one table of them,
which the documented FastAPI routes (app/http/routes.py) and the lean GET path
(app/http/fastpath.py) both serve, and the Python client's methods are generated from it
(client/generate.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from . import models
from .params import (
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
    Param,
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
    parameter the cursor `bind`s it to, and its `shape` (app/canned/pagination.py): "ts" a mirror
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
    whole: bool = False  # the order is kept for the cursor's life (app/canned/kept.py)
    # with `whole`: builds a page's items from its order rows (None: the order's rows
    # carry their `item`)
    items: str | None = None
    must_exist: str | None = None  # run on an empty page: no row means 404 (unknown contact)
    cursor_kind: str = ""  # routes sharing a sort key may share cursors ("" = name)
    # Checked against the build once the snapshot names it (app/canned/handler.py); set below.
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


def by_latest(
    name: str,
    path: str,
    days: int,
    filters: tuple[Param, ...],
    variants: tuple[Variant, ...],
    model: type[BaseModel],
    summary: str,
    description: str,
    last: str,
    *,
    nulls: bool,
    items: str | None = None,
) -> Canned:
    """A list of contacts by their latest event of some kind before the cut-off: `days`
    back, its own `filters`, a lifecycle stage; ordered by `last` (`nulls` first: contacts
    with no such event are in it), then contact_id; its whole order kept per answer."""
    return Canned(
        name=name,
        path=path,
        params=ParamSet(
            (days_param(days), *filters, LIFECYCLE_STAGE, ALLOW_UNSEEN, AS_OF, LIMIT, CURSOR)
        ),
        variants=variants,
        items=items,
        model=model,
        summary=summary,
        description=f"{description} `email` is trimmed and lower-cased, as `contact_email` is.",
        key=(
            KeyPart(last, "after_at", "ts?" if nulls else "ts"),
            KeyPart("contact_id", "after_id", "str"),
        ),
        whole=True,
    )


NEEDS_FORM = by_latest(
    "needs_form",
    "/contacts/needs-form",
    14,
    (MEASURE,),
    (Variant("needs_form", long=True),),
    models.NeedsFormPage,
    "Contacts due a form",
    "Contacts whose latest `form` event (with `event_name` = `measure`, if given) is "
    "before the cut-off `as_of - days`, or who have none. Ordered by `last_form_at` "
    "(nulls first), then `contact_id`.",
    "last_form_at",
    nulls=True,
    items="needs_form_items",
)

GONE_QUIET = by_latest(
    "gone_quiet",
    "/contacts/gone-quiet",
    30,
    (EVENT_TYPE,),
    # Two files, not one with an optional type: see gone_quiet_by_type.sql.
    (
        Variant("gone_quiet_by_type", long=True, when="event_type"),
        Variant("gone_quiet", long=True),
    ),
    models.GoneQuietPage,
    "Contacts who have gone quiet",
    "Contacts with at least one event (of `event_type`, if given) whose latest is before "
    "the cut-off `as_of - days`, with that latest event. Ordered by `last_event_at`, then "
    "`contact_id`.",
    "last_event_at",
    nulls=False,
    items="gone_quiet_items",
)

NO_SESSION = by_latest(
    "no_session",
    "/contacts/no-session",
    30,
    (),
    (Variant("no_session", long=True),),
    models.NoSessionPage,
    "Contacts not seen lately",
    "Contacts whose latest `session` event is before the cut-off `as_of - days`, or who "
    'have none: "who has not been seen?". Ordered by `last_session_at` (nulls first), '
    "then `contact_id`.",
    "last_session_at",
    nulls=True,
)

CHANNEL_SUMMARY = Canned(
    name="channel_summary",
    path="/contacts/channel-summary",
    params=ParamSet((LIFECYCLE_STAGE, ALLOW_UNSEEN, AS_OF, LIMIT, CURSOR)),
    variants=(Variant("channel_summary", long=True),),
    fixed={"contact_id": None},
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
    # the channel-summary query, for the one contact: an index probe
    variants=(Variant("channel_summary", long=False),),
    fixed={"lifecycle_stage": None, "after_id": None, "limit": 1},
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
    NO_SESSION,
    CHANNEL_SUMMARY,
    CONTACT_SUMMARY,
    TIMELINE,
    EVENTS,
)


class RouteTable:
    """The canned routes by path: the one table both the FastAPI router and the lean GET
    path read. `match` finds a request's route and its path parameters."""

    def __init__(self, entries: tuple[Canned, ...]) -> None:
        self.entries = entries
        self._exact: dict[str, Canned] = {c.path: c for c in entries if "{" not in c.path}
        self._templated: dict[int, list[tuple[list[str], Canned]]] = {}
        for canned in entries:
            if "{" in canned.path:
                parts = canned.path.split("/")
                self._templated.setdefault(len(parts), []).append((parts, canned))

    def match(self, path: str) -> tuple[Canned, dict[str, str]] | None:
        found = self._exact.get(path)
        if found is not None:
            return found, {}
        parts = path.split("/")
        for template, canned in self._templated.get(len(parts), ()):
            values: dict[str, str] = {}
            for want, got in zip(template, parts, strict=True):
                if want.startswith("{"):
                    if not got:
                        break
                    values[want[1:-1]] = got
                elif want != got:
                    break
            else:
                return canned, values
        return None


ROUTES = RouteTable(CANNED)

"""Query and path parameters of the canned routes: how each is parsed, checked, bound and
documented. One spec per parameter kind; the OpenAPI parameter objects are generated from
the same specs that check requests, so the docs cannot drift from the checks.

Every bad value is a 400 (`invalid_parameter`; `invalid_cursor` for the cursor) whose
message starts with the parameter's name; unknown and repeated query parameters are 400s
too (`unknown_parameter`, `duplicate_parameter`), so a typo (`?day=14`) never falls back
to a default silently. `since` later than `until` is a 400 too.

Two kinds of value are checked against the mirror once the request's snapshot names its
build (app/canned/handler.py): an `event_type` must be one of the build's event types
(`check_event_type`), and a `Known` filter (`measure`, `lifecycle_stage`) a value the
mirror has (`check_known`): a typo must not answer "every contact". `allow_unseen=true`
asks for an unseen value on purpose (a measure nobody has submitted yet).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..core.errors import ApiError
from ..core.timestamps import (
    cutoff,
    mirror_to_datetime,
    parse_request_timestamp,
    to_mirror,
    to_rfc3339,
)
from .pagination import CURSOR_PATTERN

MAX_TEXT = 500
MAX_CURSOR_CHARS = 12000
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)


class ParamError(ValueError):
    """A bad value; the message is completed with the parameter's name."""


@dataclass(frozen=True)
class Param:
    """One parameter: its name, where it comes from, how it binds and how it is documented.

    `bind` is the SQL parameter it fills (None: used otherwise, e.g. `limit`); `filter`
    says whether it picks the rows (part of the cursor's fingerprint) rather than the page.
    """

    name: str
    description: str
    where: str = "query"
    default: Any = None
    bind: str | None = ""  # "" = same as name
    filter: bool = True
    example: Any = None
    code: ClassVar[str] = "invalid_parameter"

    @property
    def bind_name(self) -> str | None:
        return self.name if self.bind == "" else self.bind

    def parse(self, raw: str) -> Any:
        return raw

    def schema(self) -> dict[str, Any]:
        return {"type": "string"}

    def binds(self, value: Any, as_of: str) -> dict[str, Any]:
        """SQL parameters this value fills, given the request's resolved as_of."""
        name = self.bind_name
        return {} if name is None else {name: value}

    def openapi(self) -> dict[str, Any]:
        schema = self.schema()
        if self.default is not None:
            schema["default"] = self.default
        if self.example is not None:
            schema["examples"] = [self.example]
        return {
            "name": self.name,
            "in": self.where,
            "required": self.where == "path",
            "description": self.description,
            "schema": schema,
        }


@dataclass(frozen=True)
class Text(Param):
    max_length: int = MAX_TEXT

    def parse(self, raw: str) -> Any:
        if not raw:
            raise ParamError("String should have at least 1 character")
        if len(raw) > self.max_length:
            raise ParamError(f"String should have at most {self.max_length} characters")
        return raw

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "maxLength": self.max_length}


@dataclass(frozen=True)
class EventType(Text):
    """An event type: checked against the mirror's set (`check_event_type`) once the
    request's snapshot names the build, since the set is the build's profile's."""

    max_length: int = 100


def check_event_type(name: str, value: str | None, valid: Sequence[str]) -> None:
    """400 naming the valid ones unless `value` is one of the mirror's event types."""
    if value is None or value in valid:
        return
    quoted = [f"'{t}'" for t in valid]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    raise ApiError(
        400,
        "invalid_parameter",
        f"{name}: Input should be {listed} (the mirror's event types, see GET /status)",
        field=name,
    )


@dataclass(frozen=True)
class Known(Text):
    """A filter whose value must be one the mirror has (`known`: which set, see
    queries/api/known_values.sql), unless the request says `allow_unseen=true`."""

    known: str = ""
    what: str = ""  # how the message names the set, e.g. "measure of a form event"


MAX_LISTED = 20  # known values named in a message, at most
MAX_LISTED_CHARS = 60


def _listed(values: Sequence[str]) -> str:
    shown = [
        f"'{v}'" if len(v) <= MAX_LISTED_CHARS else f"'{v[:MAX_LISTED_CHARS]}...'"
        for v in values[:MAX_LISTED]
    ]
    more = len(values) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def check_known(param: Known, value: str | None, known: Sequence[str]) -> None:
    """400 naming the known values unless `value` is one of them (`known`, sorted)."""
    if value is None or value in known:
        return
    listed = f"known: {_listed(known)}" if known else "the mirror has none"
    raise ApiError(
        400,
        "invalid_parameter",
        f"{param.name}: no {param.what} in the mirror is {value!r} ({listed}); pass "
        "allow_unseen=true to ask for it anyway",
        field=param.name,
    )


@dataclass(frozen=True)
class Flag(Param):
    """A boolean: `true` or `false` (also `1`, `0`; any case)."""

    def parse(self, raw: str) -> Any:
        lowered = raw.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ParamError("Input should be a valid boolean, `true` or `false`")

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Integer(Param):
    minimum: int = 0
    maximum: int = 0

    def parse(self, raw: str) -> Any:
        if not _INTEGER.fullmatch(raw):
            raise ParamError(
                "Input should be a valid integer, unable to parse string as an integer"
            )
        value = int(raw)
        if value < self.minimum:
            raise ParamError(f"Input should be greater than or equal to {self.minimum}")
        if value > self.maximum:
            raise ParamError(f"Input should be less than or equal to {self.maximum}")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True)
class Days(Integer):
    """Look-back in whole days; binds `:cutoff` = as_of - days (mirror text)."""

    minimum: int = 0
    maximum: int = 36500
    bind: str | None = "cutoff"

    def binds(self, value: Any, as_of: str) -> dict[str, Any]:
        parsed = mirror_to_datetime(as_of)
        assert parsed is not None  # as_of comes from to_mirror or a checked cursor
        return {"cutoff": cutoff(parsed, value)}


@dataclass(frozen=True)
class Timestamp(Param):
    """The contract's timestamp grammar in (README "Timestamps": RFC 3339, a date alone or
    no offset = UTC; app/core/timestamps.py); the mirror's text form out."""

    def parse(self, raw: str) -> Any:
        return to_mirror(parse_request_timestamp(raw))

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


@dataclass(frozen=True)
class Cursor(Text):
    max_length: int = MAX_CURSOR_CHARS
    code: ClassVar[str] = "invalid_cursor"

    def schema(self) -> dict[str, Any]:
        # base64url (no padding) of the cursor's JSON, as next_cursor gave it
        return {
            "type": "string",
            "minLength": 17,
            "maxLength": self.max_length,
            "pattern": CURSOR_PATTERN,
            "format": "base64url",
        }


def days_param(default: int) -> Days:
    return Days(
        "days",
        f"Look-back in whole days, 0..36500 (default {default}). The cut-off is "
        "`as_of - days`; before the cut-off means strictly earlier.",
        default=default,
    )


AS_OF = Timestamp(
    "as_of",
    "RFC 3339 instant the question is asked at (default: now). Events after it do not "
    "count. Without an offset it is read as UTC; a bare date means midnight UTC. "
    "A cursor keeps the as_of of its first page.",
    bind=None,
    filter=False,
    example="2024-05-01T09:30:00Z",
)
SINCE = Timestamp(
    "since",
    "Only events at or after this RFC 3339 instant (inclusive).",
    example="2024-01-01T00:00:00Z",
)
UNTIL = Timestamp(
    "until",
    "Only events strictly before this RFC 3339 instant (exclusive).",
    example="2024-02-01T00:00:00Z",
)
LIMIT = Integer(
    "limit",
    "Page size, 1..1000 (default 100).",
    default=100,
    bind=None,
    filter=False,
    minimum=1,
    maximum=1000,
)
CURSOR = Cursor(
    "cursor",
    "Opaque `next_cursor` of the previous page. Pass it back unchanged with the same "
    "filters; a malformed or foreign cursor is a 400.",
    bind=None,
    filter=False,
)
EVENT_TYPE = EventType(
    "event_type",
    "Only this event type: one of the mirror's event types (GET /status lists them; the "
    "flat profile's are form, session, email, message and system).",
    example="session",
)
LIFECYCLE_STAGE = Known(
    "lifecycle_stage",
    "Only contacts in this lifecycle_stage (exact match), e.g. `active`. A stage no "
    "contact of the mirror has is a 400 naming the known ones (a typo must not answer "
    "every contact), unless `allow_unseen=true`.",
    example="active",
    known="lifecycle_stage",
    what="contact's lifecycle_stage",
)
ALLOW_UNSEEN = Flag(
    "allow_unseen",
    "Accept a `measure` or `lifecycle_stage` that nothing in the mirror has (yet): without "
    'it such a value is a 400 naming the known values, so a typo never answers "every '
    'contact". With it the filter applies as given (e.g. a new measure nobody has '
    "submitted yet: every contact needs it).",
    default=False,
    bind=None,
    filter=False,
)
CONTACT_ID_PATH = Text("contact_id", "The contact's id.", where="path", example="c-000123")


def strict_query_values(
    query: Iterable[tuple[str, str]], allowed: Collection[str]
) -> dict[str, str]:
    """The query's values by name; 400 for the first name (in the query's order) that is
    not `allowed` (`unknown_parameter`) or is given more than once (`duplicate_parameter`).
    ParamSet.parse and app.http.deps.strict_query both check a request's query with it."""
    given: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in query:
        if name in given:
            repeated.add(name)
        given[name] = value
    for name in given:
        if name not in allowed:
            expected = ", ".join(sorted(allowed)) or "none"
            raise ApiError(
                400,
                "unknown_parameter",
                f"unknown query parameter {name!r}; this route takes: {expected}",
                field=name,
            )
        if name in repeated:
            raise ApiError(
                400, "duplicate_parameter", f"query parameter {name!r} given more than once", name
            )
    return given


@dataclass(frozen=True)
class ParamSet:
    """The parameters of one route, and the one way a request's raw values become values."""

    params: tuple[Param, ...]
    by_name: Mapping[str, Param] = field(init=False)
    query_names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {p.name: p for p in self.params})
        names = frozenset(p.name for p in self.params if p.where == "query")
        object.__setattr__(self, "query_names", names)

    def parse(self, path: Mapping[str, str], query: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """Values of every parameter (defaults filled), or the 400 the request deserves."""
        given = strict_query_values(query, self.query_names)
        given.update(path)
        values: dict[str, Any] = {}
        problems: list[tuple[Param, str]] = []
        for param in self.params:
            raw = given.get(param.name)
            if raw is None:
                values[param.name] = param.default
                continue
            try:
                values[param.name] = param.parse(raw)
            except ValueError as e:
                problems.append((param, str(e)))
        if problems:
            first = problems[0][0]
            message = "; ".join(f"{p.name}: {text}" for p, text in problems)
            raise ApiError(400, first.code, message, field=first.name)
        since, until = values.get("since"), values.get("until")
        if since is not None and until is not None and since > until:
            raise ApiError(
                400,
                "invalid_parameter",
                f"since: {to_rfc3339(since)} is later than until {to_rfc3339(until)} "
                "(since is inclusive, until exclusive)",
                field="since",
            )
        return values

    def openapi(self) -> list[dict[str, Any]]:
        return [p.openapi() for p in self.params]

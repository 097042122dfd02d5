"""RFC 3339 in, RFC 3339 out; the mirror's own text form in between.

The mirror stores timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), which sorts and
compares as text. Request timestamps (`as_of`, `since`, `until`) are parsed by the
contract's one grammar, `builder.core.timestamps.parse_timestamp` (README "Timestamps": the
same strings the build and the validator accept, its error naming the part that is
wrong), converted to UTC and formatted in the mirror's form before they are bound, so
every comparison in SQL is a plain text comparison an index can serve. Responses convert
back to RFC 3339 with a `Z`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from contact_events.builder.core.contract import TRIM_CHARS
from contact_events.builder.core.timestamps import parse_timestamp
from contact_events.builder.mirror.store import mirror_timestamp

# The one convenience on top of the grammar: an offset's `+` pasted unencoded into a URL
# (`?as_of=2024-05-01T09:30:00+02:00`) arrives as a space, and a space between a time and
# a final HH:MM can have meant nothing else. `%2B` is the proper form.
_SPACED_OFFSET = re.compile(r"([Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?) (\d{2}:\d{2})$", re.ASCII)
_MIRROR = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d{1,6})?$", re.ASCII)

# Sorts before every stored timestamp: the cut-off when `as_of - days` is before year 1.
BEFORE_ALL = "0000-01-01 00:00:00.000000"


def parse_request_timestamp(value: str) -> datetime:
    """An aware UTC datetime, or ValueError (`TimestampError`) saying which part is wrong."""
    text = _SPACED_OFFSET.sub(r"\1+\2", value.strip(TRIM_CHARS))
    return parse_timestamp(text)


to_mirror = mirror_timestamp  # the mirror's text form (builder.mirror.store owns it)


def cutoff(as_of: datetime, days: int) -> str:
    """`as_of - days` in mirror form; before year 1 it sorts before everything."""
    try:
        return to_mirror(as_of - timedelta(days=days))
    except OverflowError:
        return BEFORE_ALL


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_rfc3339(value: str | None) -> str | None:
    """Mirror text -> RFC 3339 UTC with `Z` (microseconds kept); other text unchanged."""
    if value is None:
        return None
    match = _MIRROR.match(value)
    if not match:
        return value
    date, time, frac = match.groups()
    return f"{date}T{time}{(frac or '.').ljust(7, '0')}Z"


def mirror_to_datetime(value: str) -> datetime | None:
    match = _MIRROR.match(value)
    if not match:
        return None
    date, time, frac = match.groups()
    try:
        return datetime.fromisoformat(f"{date}T{time}{(frac or '.').ljust(7, '0')}+00:00")
    except ValueError:
        return None


def is_mirror_timestamp(value: object) -> bool:
    return isinstance(value, str) and _MIRROR.match(value) is not None and len(value) == 26

"""RFC 3339 in, RFC 3339 out; the mirror's own text form in between.

The mirror stores timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), which sorts and
compares as text. Request timestamps are parsed here, converted to UTC and formatted in
that form before they are bound, so every comparison in SQL is a plain text comparison
an index can serve. Responses convert back to RFC 3339 with a `Z`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from builder.mirror import mirror_timestamp

# RFC 3339 date-time, plus two conveniences: a bare date (midnight UTC) and no offset
# (read as UTC, like the canonical tables). `T`/`t`/space separate date and time;
# fractions beyond microseconds are truncated. A space before the offset is a `+` that
# reached us unencoded (`?as_of=2024-05-01T09:30:00+02:00` pasted into a URL decodes
# the `+` to a space); after a time nothing else can have been meant.
_RFC3339 = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?)?"
    r"(?P<tz>[Zz]|[+ -]\d{2}:\d{2})?$",
    re.ASCII,
)
_MIRROR = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d{1,6})?$", re.ASCII)

# Sorts before every stored timestamp: the cut-off when `as_of - days` is before year 1.
BEFORE_ALL = "0000-01-01 00:00:00.000000"


def parse_rfc3339(value: str) -> datetime:
    """An aware UTC datetime, or ValueError with a message fit for an API client."""
    text = value.strip()
    match = _RFC3339.match(text)
    if not match:
        raise ValueError(
            "expected an RFC 3339 timestamp such as 2024-05-01T09:30:00Z (or a date, 2024-05-01)"
        )
    date, time, frac, tz = match.group("date", "time", "frac", "tz")
    if tz is not None and tz[0] == " " and time is None:  # `2024-05-01 09:30`: no seconds
        raise ValueError(
            "expected an RFC 3339 timestamp such as 2024-05-01T09:30:00Z (or a date, 2024-05-01)"
        )
    if tz is not None and time is None:
        raise ValueError("a time zone offset needs a time: 2024-05-01T00:00:00+02:00")
    iso = f"{date}T{time or '00:00:00'}"
    if frac:
        iso += "." + frac[:6].ljust(6, "0")
    if tz and tz not in ("Z", "z"):
        iso += "+" + tz[1:] if tz[0] == " " else tz
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(
            "not a real date and time (month 13, February 30, hour 24, offset beyond 23:59?)"
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp out of range after conversion to UTC") from None


to_mirror = mirror_timestamp  # the mirror's text form (builder.mirror owns it)


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

"""The contract's timestamp grammar (`contract.TIMESTAMP_PATTERN`, README "Timestamps"),
parsed in Python: for `load` (a lorchestra TIMESTAMP column) and the API's `as_of`,
`since` and `until`. The projection SQL applies the same grammar on every engine; the
validator has its own reading (builder.validate.timestamps), on purpose independent.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from .contract import TIMESTAMP_RE, TRIM_CHARS

_FRACTION = re.compile(r"(\.\d{6})\d+")


class TimestampError(ValueError):
    """Text that is not a timestamp of the grammar; the message says which part is wrong."""


def parse_timestamp(text: str) -> datetime:
    """An aware UTC datetime. No offset means UTC; a date alone is midnight UTC;
    fractional digits beyond microseconds are cut, never rounded."""
    value = text.strip(TRIM_CHARS)
    if not TIMESTAMP_RE.fullmatch(value):
        raise TimestampError(_why(value))
    value = _FRACTION.sub(r"\1", value.upper())
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise TimestampError(f"{text!r} is not a real date (e.g. February 30)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        result = parsed.astimezone(UTC)
    except OverflowError:
        raise TimestampError(f"{text!r} is outside the years 0001-9999 in UTC") from None
    return result


def _why(value: str) -> str:
    """Which part of `value` breaks the grammar, for a message a person can act on."""
    example = "expected e.g. 2024-05-01T09:30:00Z, 2024-05-01T09:30:00+02:00 or 2024-05-01"
    date = re.match(r"\d{4}-\d{2}-\d{2}", value)
    if not date:
        return f"{value!r}: the date must come first as YYYY-MM-DD; {example}"
    rest = value[date.end() :]
    time = re.match(r"[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?", rest)
    if not time:
        return f"{value!r}: after the date comes T and a time HH:MM:SS; {example}"
    hour, minute, second = (int(g) for g in time.groups()[:3])
    if hour > 23 or minute > 59 or second > 59:
        return f"{value!r}: hours run 00-23, minutes and seconds 00-59"
    offset = rest[time.end() :]
    if not re.fullmatch(r"[Zz]|[+-]\d{2}:\d{2}", offset):
        return f"{value!r}: the offset must be Z or +HH:MM / -HH:MM; {example}"
    return f"{value!r}: the offset must be between -14:00 and +14:00"

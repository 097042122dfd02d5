"""Timestamps as the contract reads them (trimmed, checked against `TIMESTAMP_RE`, UTC
microseconds) and the mirror's text form of an instant: one reading for the reference
ledger, the comparison and the output alike."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from ..core import contract as c
from ..mirror.store import mirror_timestamp

# The contract's grammar decides what is valid; this one (ASCII digits only, as in the
# SQL engines' RE2) only takes a valid value apart.
_TS_PARTS = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?"
    r"([Zz]|[+-]\d{2}:\d{2})?",
    re.ASCII,
)
_EPOCH = datetime(1970, 1, 1)  # naive: UTC arithmetic
_MIN_US = -62135596800 * 1_000_000  # 0001-01-01T00:00:00Z
_MAX_US = 253402300799 * 1_000_000 + 999_999  # 9999-12-31T23:59:59.999999Z


def trim(value: str | None) -> str | None:
    """Surrounding whitespace (contract.TRIM_CHARS) off; '' or blank is None."""
    if value is None:
        return None
    value = value.strip(c.TRIM_CHARS)
    return value or None


def parse_instant(text: str) -> int | None:
    """A trimmed, non-empty timestamp -> microseconds since the epoch (UTC), None if bad."""
    if c.TIMESTAMP_RE.fullmatch(text) is None:
        return None
    m = _TS_PARTS.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, frac, tz = m.groups()
    try:
        if hour is not None:
            dt = datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second),
                int(frac[:6].ljust(6, "0")) if frac else 0,  # truncated to microseconds
            )
        else:
            dt = datetime(int(year), int(month), int(day))
    except ValueError:
        return None
    delta = dt - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if tz and tz not in ("Z", "z"):
        hours, minutes = int(tz[1:3]), int(tz[4:6])
        if hours > 23 or minutes > 59:
            return None
        offset = (hours * 60 + minutes) * 60_000_000
        micros = micros - offset if tz[0] == "+" else micros + offset
    if micros < _MIN_US or micros > _MAX_US:
        return None
    return micros


def _civil(days: int) -> tuple[int, int, int]:
    """Days since 1970-01-01 -> proleptic Gregorian (year, month, day), any year
    (H. Hinnant's algorithm): a ledger value outside Python's years 1-9999 still prints."""
    days += 719_468
    era = days // 146_097
    doe = days - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def mirror_text(micros: int) -> str:
    """The mirror's `YYYY-MM-DD HH:MM:SS.ffffff` form of an instant (any year: a ledger
    value outside years 1-9999 is still printed, by the proleptic calendar)."""
    if _MIN_US <= micros <= _MAX_US:
        return mirror_timestamp(_EPOCH + timedelta(microseconds=micros))
    days, rest = divmod(micros, 86_400_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    year, month, day = _civil(days)
    return f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}.{fraction:06d}"


def _iso(micros: int | None) -> str | None:
    if micros is None:
        return None
    return mirror_text(micros).replace(" ", "T") + "Z"

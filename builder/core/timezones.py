"""The practice's display time zone (`CONTACT_EVENTS_DISPLAY_TZ`): an IANA name, checked
when the settings are read so a typo is one line at start, never a page that fails."""

from __future__ import annotations

from datetime import UTC, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EXAMPLES = "e.g. UTC, Europe/London, America/New_York"


@cache
def zone_or_error(name: str) -> tzinfo:
    """The zone called `name`, or ValueError saying what a valid value looks like."""
    if name == "UTC":
        return UTC  # needs no time zone database
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"{name!r} is not an IANA time zone name ({EXAMPLES})") from None

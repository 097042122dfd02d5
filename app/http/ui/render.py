"""Templates (Jinja2, autoescaped: a payload holding `<script>` is shown as text) and the
helpers they use: times in the practice's zone, event types' looks, the static files'
versioned URLs.

Times: every timestamp the API gives is RFC 3339 UTC; a page shows it in
`CONTACT_EVENTS_DISPLAY_TZ` inside `<time datetime="…UTC…" title="… UTC">`, so hovering
shows UTC and a screen reader or script gets the exact instant.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# How each event type looks: a CSS modifier (colour) and an icon. The flat profile's five
# and lorchestra's billing types; any other type a practice's own sources declare gets
# the neutral look, never an error.
EVENT_LOOKS = {
    "form": "form",
    "session": "session",
    "email": "email",
    "message": "message",
    "system": "system",
    "invoice": "invoice",
    "payment": "payment",
    "refund": "refund",
}
NEUTRAL = "other"


def event_look(event_type: str | None) -> str:
    return EVENT_LOOKS.get(event_type or "", NEUTRAL)


@dataclass(frozen=True)
class Clock:
    """Times for people: the display zone, and now."""

    zone: tzinfo
    zone_name: str

    def parse(self, value: str | None) -> datetime | None:
        """An RFC 3339 answer timestamp (`…Z`) as an aware datetime."""
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)

    def local(self, value: datetime) -> datetime:
        return value.astimezone(self.zone)

    def local_midnight_utc(self, day: date) -> datetime:
        """The instant the local `day` starts, in UTC (what a date filter means)."""
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    def shift_modifier(self, at: datetime) -> str:
        """SQLite's date modifier from UTC to the zone's offset at `at` ('+60 minutes')."""
        offset = self.local(at).utcoffset() or timedelta(0)
        return f"{int(offset.total_seconds() // 60):+d} minutes"


def time_tag(clock: Clock, value: str | None, with_date: bool = True) -> Markup:
    """`<time>` with the local time as text, the UTC instant as `datetime` and `title`."""
    parsed = clock.parse(value)
    if parsed is None:
        return Markup('<span class="muted">never</span>')
    utc = parsed.astimezone(UTC)
    local = clock.local(parsed)
    text = f"{local:%a} {local.day} {local:%b %Y, %H:%M}" if with_date else f"{local:%H:%M}"
    zone = local.tzname() or clock.zone_name
    iso = utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    title = utc.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}" title="{}">{} <span class="tz">{}</span></time>').format(
        iso, title, text, zone
    )


def age_text(seconds: float | None) -> str:
    """`3 h 12 min`, `45 s`, `2 d 4 h`: an age people read at a glance."""
    if seconds is None:
        return "unknown"
    s = int(max(seconds, 0))
    if s < 60:
        return f"{s} s"
    minutes, _ = divmod(s, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def pretty_json(value: Any) -> str:
    """A payload as indented JSON text (escaped by the template like any text)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def full_name(row: dict[str, Any]) -> str:
    parts = [row.get("first_name"), row.get("last_name")]
    name = " ".join(str(p) for p in parts if p)
    return name or "(no name)"


def _static_versions() -> dict[str, str]:
    """A short hash of each static file, put in its URL (`?v=`): a new release's CSS is
    fetched at once, while browsers may keep the current one."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in STATIC.iterdir()
        if path.is_file()
    }


def make_environment(clock: Clock) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    versions = _static_versions()

    def static(name: str) -> str:
        return f"/ui/static/{name}?v={versions.get(name, '0')}"

    env.globals.update(
        static=static,
        time_tag=lambda value, with_date=True: time_tag(clock, value, with_date),
        event_look=event_look,
        age_text=age_text,
        full_name=full_name,
        zone_name=clock.zone_name,
    )
    env.filters["pretty_json"] = pretty_json
    env.filters["path_part"] = lambda value: quote(str(value), safe="")
    return env

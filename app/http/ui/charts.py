"""The pages' two charts, drawn on the server as inline SVG (no script, no library): the
geometry is computed here, the markup is in the templates (`_charts.html`).

Both carry their numbers as text too (a `<title>` per bar, an accessible name for the
whole chart, and the status page's table beside its chart), so they are readable without
seeing colour or shape.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

WEEKS = 53  # the current week and the 52 before it: a year
STRIP_BAR = 10
STRIP_GAP = 2
STRIP_HEIGHT = 48
STRIP_LABELS = 14  # room under the bars for the month names


@dataclass(frozen=True)
class WeekBar:
    x: int
    y: int
    height: int
    count: int
    label: str  # "week of 6 May 2024: 3 events"


@dataclass(frozen=True)
class MonthLabel:
    x: int
    text: str


@dataclass(frozen=True)
class Strip:
    bars: tuple[WeekBar, ...]
    months: tuple[MonthLabel, ...]
    width: int
    height: int
    baseline: int
    summary: str


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def _day_text(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def activity_strip(counts: Mapping[str, int], today: date) -> Strip:
    """Bars for the WEEKS weeks ending with `today`'s, from {Monday (YYYY-MM-DD): events}.
    Heights grow with the square root of the count, so one busy week does not flatten
    the rest; a week without events is a stub on the baseline."""
    last = week_start(today)
    first = last - timedelta(weeks=WEEKS - 1)
    weeks = [first + timedelta(weeks=i) for i in range(WEEKS)]
    values = [int(counts.get(week.isoformat(), 0)) for week in weeks]
    top = max(values, default=0)
    bars = []
    months = []
    for i, (week, n) in enumerate(zip(weeks, values, strict=True)):
        x = i * (STRIP_BAR + STRIP_GAP)
        height = 2 if n == 0 else max(4, round(STRIP_HEIGHT * math.sqrt(n / top)))
        noun = "event" if n == 1 else "events"
        bars.append(
            WeekBar(x, STRIP_HEIGHT - height, height, n, f"week of {_day_text(week)}: {n} {noun}")
        )
        if i == 0 or week.month != (week - timedelta(weeks=1)).month:
            if i <= WEEKS - 3:  # no label squeezed in at the right edge
                months.append(MonthLabel(x, f"{week:%b}"))
    total = sum(values)
    active = sum(1 for n in values if n)
    if total:
        busiest = max(range(WEEKS), key=lambda i: values[i])
        summary = (
            f"Events per week over the last year: {total} in {active} of {WEEKS} weeks; "
            f"the busiest, week of {_day_text(weeks[busiest])}, had {values[busiest]}."
        )
    else:
        summary = f"Events per week over the last year: none in the last {WEEKS} weeks."
    return Strip(
        tuple(bars),
        tuple(months),
        WEEKS * (STRIP_BAR + STRIP_GAP) - STRIP_GAP,
        STRIP_HEIGHT + STRIP_LABELS,
        STRIP_HEIGHT,
        summary,
    )


BAR_LABEL = 170  # room for the reason's name
BAR_MAX = 300
BAR_ROW = 26
BAR_THICK = 16


@dataclass(frozen=True)
class Bar:
    y: int
    text_y: int
    width: int
    count: int
    name: str
    warning: bool


@dataclass(frozen=True)
class BarChart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int
    summary: str


def bar_chart(counts: Mapping[str, int], warnings: tuple[str, ...] = ()) -> BarChart:
    """Horizontal bars, one per name (in the given order, zeros included), scaled to the
    largest; `warnings` are drawn in the warning colour."""
    top = max(counts.values(), default=0)
    bars = []
    for i, (name, n) in enumerate(counts.items()):
        width = 0 if top == 0 or n == 0 else max(2, round(BAR_MAX * n / top))
        y = i * BAR_ROW + (BAR_ROW - BAR_THICK) // 2
        bars.append(Bar(y, i * BAR_ROW + BAR_ROW // 2 + 5, width, int(n), name, name in warnings))
    parts = ", ".join(f"{name} {n:,}" for name, n in counts.items())
    return BarChart(
        tuple(bars),
        BAR_LABEL + BAR_MAX + 80,
        max(1, len(bars)) * BAR_ROW,
        BAR_LABEL,
        f"Rejects and warnings by reason: {parts or 'none'}.",
    )

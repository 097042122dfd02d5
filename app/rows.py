"""Rows of a canned query (tuples, mirror text) -> response items (RFC 3339, objects).

A canned query declares which of its columns are timestamps, emails, JSON objects or
event counts (app/canned.py); `Shape` turns that into one converter per query and result
columns, made once. Conversions are plain string work: the mirror's timestamps all have
the one fixed form 'YYYY-MM-DD HH:MM:SS.ffffff', so RFC 3339 is a slice and a `Z`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from app.timestamps import to_rfc3339
from builder.contract import TRIM_CHARS

Row = tuple[Any, ...]


def rfc3339(value: str | None) -> str | None:
    """Mirror text -> RFC 3339 UTC with `Z`, microseconds kept; other text unchanged."""
    if value is not None and len(value) == 26 and value[10] == " ":
        return f"{value[:10]}T{value[11:]}Z"
    return to_rfc3339(value)


def email(value: str | None) -> str | None:
    """An email as the ledger's `contact_email` is: trimmed (spaces, tabs, CR, LF) and
    lower-cased (CONTRACT §2 and §5); empty is null."""
    if value is None:
        return None
    return value.strip(TRIM_CHARS).lower() or None


def json_object(value: Any) -> dict[str, Any]:
    """A JSON text column as an object; anything else wrapped as {"value": ...}."""
    try:
        parsed = orjson.loads(value) if isinstance(value, str | bytes) else value
    except orjson.JSONDecodeError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def counts(value: Any, event_types: Sequence[str]) -> tuple[dict[str, int], int]:
    """A JSON object event_type -> count (types without events absent) -> every type of
    the mirror's set in its order, 0 included (any other type after them), and the total."""
    found = json_object(value) if value is not None else {}
    filled = {t: int(found.pop(t, 0) or 0) for t in event_types}
    for extra, n in found.items():  # a type outside the set: shown, never dropped
        filled[str(extra)] = int(n or 0)
    return filled, sum(filled.values())


@dataclass(frozen=True)
class Transforms:
    """What a canned query's columns are (by name)."""

    timestamps: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    counts: str | None = None  # JSON counts per type; a `total` column follows it


class Shape:
    """How one query's result columns become response items."""

    __slots__ = ("names", "convert")

    def __init__(
        self, columns: Sequence[str], transforms: Transforms, event_types: Sequence[str]
    ) -> None:
        names = list(columns)
        steps: list[tuple[int, Callable[[Any], Any]]] = []
        for i, column in enumerate(columns):
            if column in transforms.timestamps:
                steps.append((i, rfc3339))
            elif column in transforms.emails:
                steps.append((i, email))
            elif column in transforms.objects:
                steps.append((i, json_object))
        counts_at = columns.index(transforms.counts) if transforms.counts in columns else None
        if counts_at is not None:
            names.insert(counts_at + 1, "total")
        self.names = tuple(names)
        types = tuple(event_types)

        def convert(row: Row) -> Row:
            if not steps and counts_at is None:
                return row
            values = list(row)
            for i, step in steps:
                values[i] = step(values[i])
            if counts_at is not None:
                filled, total = counts(values[counts_at], types)
                values[counts_at] = filled
                values.insert(counts_at + 1, total)
            return tuple(values)

        self.convert = convert

    def item(self, row: Row) -> dict[str, Any]:
        return dict(zip(self.names, row, strict=True))

"""`BuildRow`: one `ledger_builds` row of the mirror, the one owner of the mirror's metadata.

Sync writes one per sync (`to_row`) and carries the history of the mirror it replaces; the
API, `status`, `doctor` and the strategy read them (`from_row`). A mirror records its
layout in `PRAGMA user_version` (`SCHEMA_VERSION`); a row of an older layout is migrated
here, in `_migrate`, and nowhere else: a sync writes every carried row in the current
layout, and an incremental sync never patches a mirror of an older layout (the strategy
syncs it in full instead).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

from ..core.contract import EVENT_TYPES
from ..core.errors import ContactEventsError
from ..core.queries import read_query

_VERSION = re.compile(r"^PRAGMA user_version = (\d+);", re.M)

# The layout of ledger_builds this release writes: the user_version that
# queries/mirror/schema.sql gives a new mirror (0: a mirror written before the layout was
# versioned).
SCHEMA_VERSION = int(_VERSION.search(read_query("mirror/schema")).group(1))  # type: ignore[union-attr]
# What a row of a version-0 mirror lacks, as the release that wrote it meant it: every
# sync was full, every build the flat profile's.
V0_DEFAULTS: dict[str, Any] = {
    "mode": "full",
    "profile": "flat",
    "event_types": list(EVENT_TYPES),
    "validation": None,
    "strategy": None,
    "checksum": None,
}
JSON_COLUMNS = (
    "rejects_by_reason",
    "rows_by_source",
    "duplicates_by_source",
    "validation",
    "event_types",
    "strategy",
)


class DamagedBuildRow(ContactEventsError):
    """A ledger_builds row cannot be read: a JSON column holds text that is not JSON (or
    not the JSON it should), or a time is not a time. `problems` says which."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class BuildRow:
    """One sync of the mirror: which build it holds, how it was made, what it counted."""

    build_id: str
    built_at: str  # mirror timestamp text (UTC)
    synced_at: str
    warehouse: str
    mode: str  # full | incremental: how this sync brought the mirror to the build
    ledger_rows: int
    rejects_rows: int
    contacts_rows: int
    error_rejects: int
    rejects_by_reason: dict[str, int]
    rows_by_source: dict[str, int]
    duplicates_by_source: dict[str, int]
    build_seconds: float | None
    sync_seconds: float | None
    validation: dict[str, Any] | None
    profile: str
    event_types: tuple[str, ...]  # display order: what the API accepts and counts
    strategy: dict[str, Any] | None
    checksum: str | None  # `<algorithm>:<hex>` of the data tables (builder.mirror.store)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> BuildRow:
        """The row as read from SQLite (column -> value, JSON as text), of any layout."""
        values = _migrate(dict(row))
        damaged = []
        for column in JSON_COLUMNS:
            text = values[column]
            if isinstance(text, str):
                try:
                    values[column] = json.loads(text)
                except ValueError:
                    damaged.append(f"{column} is not JSON")
        types = values["event_types"]
        if not damaged and not _names(types):
            damaged.append("event_types is not a JSON array of names")
        for column in ("built_at", "synced_at"):
            if _instant(values[column]) is None:
                damaged.append(f"{column} {values[column]!r} is not a time")
        if damaged:
            raise DamagedBuildRow(
                f"the ledger_builds row of build {values.get('build_id')} is damaged "
                f"({'; '.join(damaged)})",
                damaged,
            )
        values["event_types"] = tuple(types)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def to_row(self) -> dict[str, Any]:
        """The row to insert (queries/mirror/insert_build.sql), JSON columns as text."""
        row = asdict(self)
        row["event_types"] = list(self.event_types)
        for column in JSON_COLUMNS:
            if row[column] is not None:
                row[column] = json.dumps(row[column])
        return row

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (`contact-events status --json`, GET /status's `build`)."""
        return {**asdict(self), "event_types": list(self.event_types)}

    @property
    def synced(self) -> datetime:
        instant = _instant(self.synced_at)
        assert instant is not None  # checked by from_row
        return instant

    @property
    def built(self) -> datetime:
        instant = _instant(self.built_at)
        assert instant is not None
        return instant


def _migrate(row: dict[str, Any]) -> dict[str, Any]:
    """A row of any earlier layout in the current one (see the module docstring)."""
    for column, default in V0_DEFAULTS.items():
        if row.get(column) is None:
            row[column] = json.dumps(default) if isinstance(default, list) else default
    return row


def _names(value: object) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(t, str) and t for t in value)
        and len(set(value)) == len(value)
    )


def _instant(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)).replace(tzinfo=UTC)
    except ValueError:
        return None

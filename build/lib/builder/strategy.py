"""Full or incremental, decided once (dbt's incremental strategies are the model).

A `Strategy` is named and checked before any SQL runs: what the build does (`full`:
CREATE OR REPLACE the ledger; `incremental`: re-resolve what changed and MERGE it) and
what the sync does (`full`: a new mirror file; `incremental`: patch a copy of the live
mirror), and the reason for each. `decide()` resolves it from what was asked, the
warehouse's last finished build, the mirror's base build and the age of the mirror's
last full build; `build` and `sync` obey it and the report prints it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Mode = Literal["full", "incremental"]
MODES: tuple[Mode, ...] = ("full", "incremental")
FULL_EVERY_DAYS = 7  # `run --incremental` still rebuilds in full at least this often


@dataclass(frozen=True)
class Strategy:
    build: Mode
    sync: Mode
    reason: str
    # the warehouse build an incremental build applies its changes on top of
    base_build_id: str | None = None

    def __post_init__(self) -> None:
        if self.build not in MODES or self.sync not in MODES:
            raise ValueError(f"unknown strategy {self.build}/{self.sync}")
        if self.sync == "incremental" and self.build != "incremental":
            raise ValueError("an incremental sync needs an incremental build")

    @property
    def name(self) -> str:
        if self.build == self.sync:
            return self.build
        return f"{self.build} build, {self.sync} sync"

    def describe(self) -> str:
        return f"{self.name} ({self.reason})"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "name": self.name}


FULL = Strategy("full", "full", "asked for a full rebuild")


def decide(
    *,
    incremental: bool,
    warehouse_build: Mapping[str, Any] | None,
    ledger_exists: bool,
    mirror_builds: Sequence[Mapping[str, Any]] | None = None,
    full_every_days: int | None = None,
    now: datetime | None = None,
) -> Strategy:
    """The strategy for one build + sync.

    `warehouse_build`: the warehouse's last finished build row (None: none, or the last one
    failed half-way); `mirror_builds`: the mirror's ledger_builds rows, oldest first (None:
    the caller syncs nothing); `full_every_days`: force a full rebuild when the mirror's last
    full build is older than that (None: never)."""
    if not incremental:
        return FULL
    if warehouse_build is None or not ledger_exists:
        return Strategy("full", "full", "no finished build in the warehouse to apply changes to")
    base = str(warehouse_build["build_id"])
    if mirror_builds is None:
        return Strategy("incremental", "full", "incremental build asked", base)
    if full_every_days is not None:
        age = _full_build_age(mirror_builds, now or datetime.now(UTC))
        if age is None:
            return Strategy("full", "full", "the mirror has no full build yet")
        if age > timedelta(days=full_every_days):
            return Strategy(
                "full", "full", f"the last full build is older than {full_every_days} days"
            )
    mirror_base = str(mirror_builds[-1]["build_id"]) if mirror_builds else None
    if mirror_base != base:
        return Strategy(
            "incremental",
            "full",
            "the mirror does not hold the warehouse's last build, so it is copied whole",
            base,
        )
    return Strategy("incremental", "incremental", "the mirror holds the last build", base)


def sync_mode(build_row: Mapping[str, Any], mirror_builds: Sequence[Mapping[str, Any]]) -> Mode:
    """What a standalone `sync` (after a separate `build`) can do: patch the mirror only
    when the warehouse build is incremental and was applied to the build the mirror holds."""
    if build_row.get("mode") != "incremental" or not mirror_builds:
        return "full"
    previous = build_row.get("previous_build_id")
    return "incremental" if previous == mirror_builds[-1]["build_id"] else "full"


def _full_build_age(builds: Sequence[Mapping[str, Any]], now: datetime) -> timedelta | None:
    for row in reversed(builds):
        if (row.get("mode") or "full") == "full":
            built = datetime.fromisoformat(str(row["built_at"])).replace(tzinfo=UTC)
            return now - built
    return None

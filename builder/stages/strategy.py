"""Full or incremental, decided once (dbt's incremental strategies are the model).

A `Strategy` is the only way the builder says full or incremental: what the build does
(`full`: CREATE OR REPLACE the ledger; `incremental`: re-resolve what changed and MERGE
it), what the sync does (`full`: a new mirror file; `incremental`: patch a copy of the
live mirror), what was asked, and the reason. `read_inputs` reads everything the choice
depends on, once: the warehouse's last finished build, the mirror in place (its layout,
its builds, and -- only when a patch is otherwise due -- whether it verifies); `decide`
is a pure function of those. Where an incremental run cannot be had, the strategy falls
back to full and says why (`fell_back`, `reason`); `build` and `sync` obey it and never
decide again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..core.contract import BUILD_TABLE, LEDGER_TABLE
from ..mirror.build_row import SCHEMA_VERSION
from ..mirror.store import MirrorState, mirror_state, verify_mirror

if TYPE_CHECKING:
    from ..engine import Warehouse

Mode = Literal["full", "incremental"]
MODES: tuple[Mode, ...] = ("full", "incremental")
FULL_EVERY_DAYS = 7  # `run --incremental` still rebuilds in full at least this often
# The staged rows a build keeps for the next incremental build (builder/stages/build.py).
PREVIOUS_STAGE = "proj_stage_sources_last"


@dataclass(frozen=True)
class Strategy:
    build: Mode
    sync: Mode
    reason: str
    # the warehouse build an incremental build applies its changes on top of
    base_build_id: str | None = None
    asked: Mode = "full"

    def __post_init__(self) -> None:
        if {self.build, self.sync, self.asked} - set(MODES):
            raise ValueError(f"unknown strategy {self.build}/{self.sync} (asked {self.asked})")
        if self.sync == "incremental" and self.build != "incremental":
            raise ValueError("an incremental sync needs an incremental build")

    @property
    def name(self) -> str:
        if self.build == self.sync:
            return self.build
        return f"{self.build} build, {self.sync} sync"

    @property
    def fell_back(self) -> bool:
        """Incremental was asked and the sync is full: the reason says why."""
        return self.asked == "incremental" and self.sync == "full"

    def describe(self) -> str:
        return f"{self.name} ({self.reason})"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "name": self.name, "fell_back": self.fell_back}


FULL = Strategy("full", "full", "asked for a full rebuild")


@dataclass(frozen=True)
class Inputs:
    """Everything a strategy is decided from (see `read_inputs`)."""

    asked: Mode
    # the warehouse's last finished build row (None: none, or the last one failed half-way)
    warehouse_build: dict[str, Any] | None
    # whether the warehouse holds the ledger and the staged rows of its last build
    ledger_exists: bool
    # the mirror in place (None: this run syncs nothing)
    mirror: MirrorState | None = None
    # why the mirror in place cannot be patched (None: it verified, or was not checked)
    mirror_problem: str | None = None
    # a full rebuild when the mirror's last full build is older than this (None: never)
    full_every_days: int | None = None
    now: datetime | None = None
    # the build has run: decide how to sync the warehouse's last build (`sync` alone)
    built: bool = False


def decide(inputs: Inputs) -> Strategy:
    """The strategy for one run; pure (see the module docstring)."""
    if inputs.built:
        return _sync_of_last_build(inputs)
    if inputs.asked == "full":
        return FULL
    build = inputs.warehouse_build
    if build is None or not inputs.ledger_exists:
        return _full("the warehouse holds no finished build to apply changes to")
    base = str(build["build_id"])
    if inputs.mirror is None:
        return Strategy("incremental", "full", "incremental build asked", base, "incremental")
    if inputs.full_every_days is not None:
        age = _full_build_age(inputs.mirror, inputs.now or datetime.now(UTC))
        if age is None:
            return _full("the mirror has no full build yet")
        if age > timedelta(days=inputs.full_every_days):
            return _full(f"the last full build is older than {inputs.full_every_days} days")
    latest = inputs.mirror.latest
    if latest is None or latest.build_id != base:
        return _copied("the mirror does not hold the warehouse's last build", base)
    return _patch_or_copy(inputs, base)


def _sync_of_last_build(inputs: Inputs) -> Strategy:
    build = inputs.warehouse_build
    mode: Mode = "incremental" if build and build.get("mode") == "incremental" else "full"
    base = str(build["previous_build_id"]) if mode == "incremental" and build else None
    if inputs.asked == "full":
        return Strategy(mode, "full", "asked for a full sync", base)
    if mode == "full" or base is None:
        return Strategy(
            mode,
            "full",
            "the warehouse's last build was full: it has no changes to patch the mirror with",
            None,
            "incremental",
        )
    latest = inputs.mirror.latest if inputs.mirror is not None else None
    if latest is None or latest.build_id != base:
        return _copied("the mirror does not hold the build the last build was applied to", base)
    return _patch_or_copy(inputs, base)


def _patch_or_copy(inputs: Inputs, base: str) -> Strategy:
    assert inputs.mirror is not None
    if inputs.mirror.version != SCHEMA_VERSION:
        return _copied(
            f"the mirror is of an older layout (version {inputs.mirror.version}, this "
            f"release writes {SCHEMA_VERSION}), so it is written anew",
            base,
        )
    if inputs.mirror_problem is not None:
        return _copied(f"the mirror in place {inputs.mirror_problem}; synced in full", base)
    return Strategy(
        "incremental", "incremental", "the mirror holds the last build", base, "incremental"
    )


def _full(why: str) -> Strategy:
    return Strategy("full", "full", why, None, "incremental")


def _copied(why: str, base: str) -> Strategy:
    return Strategy("incremental", "full", f"{why}, so it is copied whole", base, "incremental")


def _full_build_age(mirror: MirrorState, now: datetime) -> timedelta | None:
    for row in reversed(mirror.builds):
        if row.mode == "full":
            return now - row.built
    return None


def last_build(warehouse: Warehouse) -> dict[str, Any] | None:
    """The warehouse's last finished build row (None: none yet, or it failed half-way)."""
    if not warehouse.table_exists(BUILD_TABLE):
        return None
    rows = warehouse.fetch_query_file("report/build_latest")
    return dict(rows[0]) if rows else None


def read_inputs(
    warehouse: Warehouse,
    asked: Mode,
    mirror_path: Path | str | None = None,
    *,
    full_every_days: int | None = None,
    built: bool = False,
) -> Inputs:
    """What `decide` needs, read once. `mirror_path`: the mirror this run syncs (None: a
    build alone). The mirror is verified (checksum included) only when a patch would
    otherwise follow: its problem, if any, is an input too."""
    inputs = Inputs(
        asked=asked,
        warehouse_build=last_build(warehouse),
        ledger_exists=(
            warehouse.table_exists(LEDGER_TABLE) and warehouse.table_exists(PREVIOUS_STAGE)
        ),
        mirror=mirror_state(mirror_path) if mirror_path is not None else None,
        full_every_days=full_every_days,
        now=datetime.now(UTC),
        built=built,
    )
    if mirror_path is not None and decide(inputs).sync == "incremental":
        verified = verify_mirror(mirror_path, checksum=True)
        if not verified.ok:
            inputs = replace(inputs, mirror_problem=verified.problem)
    return inputs


def plan(warehouse: Warehouse, asked: Mode, *args: Any, **options: Any) -> Strategy:
    """`decide(read_inputs(warehouse, asked, ...))`: the strategy for a run on `warehouse`
    (the same arguments as `read_inputs`)."""
    return decide(read_inputs(warehouse, asked, *args, **options))

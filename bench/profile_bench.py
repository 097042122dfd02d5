"""Benchmark: the lorchestra profile's build and sync next to the flat profile's, same run.

    python -m bench.profile_bench [--events 1000000] [--contacts 50000] [--rounds 3]

Each profile gets its demo data at the same size (flat: `builder.demo.flat`; lorchestra:
`builder.demo.lorchestra`, JSON payloads in canonical_objects), loaded into its own
DuckDB file. Then, `--rounds` times, alternating flat and lorchestra so a drift of the
machine's speed hits both: a full build of each (timed), then a full sync of each into a
fresh mirror (timed, rows/s). The table prints every round, and the median ratios
lorchestra / flat: the build's extra cost is reading JSON payloads; the sync's should be
none (the same ledger shape).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

from rich.table import Table

from contact_events.builder.cli import make_console
from contact_events.builder.core.config import Settings
from contact_events.builder.demo.flat import PRACTICE_EMAILS, DemoSize, write_demo_data
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.build import build
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.profiles import profile_of
from contact_events.builder.stages.sync import sync

OUT = Path(__file__).parent / "out" / "profiles"


def generate(profile: str, directory: Path, size: DemoSize) -> None:
    if profile == "lorchestra":
        from contact_events.builder.demo.lorchestra import write_lorchestra_demo_data

        write_lorchestra_demo_data(directory, size)
    else:
        write_demo_data(directory, size)


def prepare(profile: str, events: int, contacts: int) -> Settings:
    root = OUT / profile
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    settings = Settings(
        profile=profile,
        duckdb_path=root / "warehouse.duckdb",
        mirror_path=root / "mirror.db",
        practice_emails=list(PRACTICE_EMAILS),
    )
    generate(profile, root / "canon", DemoSize(contacts=contacts, events=events))
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, root / "canon", profile=profile_of(settings))
    shutil.rmtree(root / "canon")
    return settings


def one_round(settings: Settings) -> dict[str, float]:
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        started = time.perf_counter()
        report = build(wh, settings)
        build_s = time.perf_counter() - started
        mirror = Path(settings.mirror_path)
        mirror.unlink(missing_ok=True)
        synced = sync(wh, mirror)
    rows = sum(synced.rows.values())
    return {
        "ledger_rows": report.total_rows,
        "build_s": build_s,
        "sync_s": synced.seconds,
        "sync_rows_per_s": rows / synced.seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    console = make_console()
    profiles = ("flat", "lorchestra")
    settings = {p: prepare(p, args.events, args.contacts) for p in profiles}
    rounds: list[dict[str, dict[str, float]]] = []
    for _ in range(args.rounds):
        load = os.getloadavg()[0]
        rounds.append({p: one_round(settings[p]) for p in profiles})
        rounds[-1]["load"] = {"avg1": load}
    table = Table(title=f"full build + sync, {args.events:,} events / {args.contacts:,} contacts")
    for col in (
        "round",
        "load avg",
        "flat rows",
        "flat build s",
        "lorchestra rows",
        "lorchestra build s",
        "build ratio",
        "flat sync rows/s",
        "lorchestra sync rows/s",
        "sync ratio",
    ):
        table.add_column(col, justify="right")
    build_ratios, sync_ratios = [], []
    for n, r in enumerate(rounds, 1):
        flat, lor = r["flat"], r["lorchestra"]
        build_ratios.append(lor["build_s"] / flat["build_s"])
        sync_ratios.append(lor["sync_rows_per_s"] / flat["sync_rows_per_s"])
        table.add_row(
            str(n),
            f"{r['load']['avg1']:.2f}",
            f"{flat['ledger_rows']:,.0f}",
            f"{flat['build_s']:.2f}",
            f"{lor['ledger_rows']:,.0f}",
            f"{lor['build_s']:.2f}",
            f"{build_ratios[-1]:.2f}",
            f"{flat['sync_rows_per_s']:,.0f}",
            f"{lor['sync_rows_per_s']:,.0f}",
            f"{sync_ratios[-1]:.2f}",
        )
    console.print(table)
    console.print(
        f"median lorchestra/flat: build {statistics.median(build_ratios):.2f}x "
        f"(target <= 1.5), sync rows/s {statistics.median(sync_ratios):.2f}x (target ~1.0)"
    )
    console.print_json(json.dumps(rounds))


if __name__ == "__main__":
    main()

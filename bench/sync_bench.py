"""Benchmark: build time, sync rows/s and peak RSS, against raw sqlite3 executemany.

    python -m bench.sync_bench --events 1000000 --contacts 50000 [--events 100000 ...]

For each size: demo data -> load in a child process (timed, peak RSS), next to a child
that only parses the same JSONL files (the floor for load) -> build (timed) -> sync in
a child process (timed, peak RSS of that process alone) -> the same ledger rows, already
in memory, written by a bare `executemany` into a fresh SQLite file (journal off, no
indexes, then the mirror's indexes): the physical limit of this machine, measured in the
same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from contact_events.builder.cli import make_console
from contact_events.builder.core.config import Settings
from contact_events.builder.core.queries import read_query
from contact_events.builder.demo.flat import PRACTICE_EMAILS, DemoSize, write_demo_data
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.build import build
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.sync import batch_rows

OUT = Path(__file__).parent / "out"


def child(mode: str, duckdb_path: str, other: str) -> None:
    """Run one step in a fresh process so its peak RSS is the step's alone (imports
    included): `sync` (warehouse -> mirror `other`), `load` (JSONL folder `other` ->
    warehouse) or `parse` (read the JSONL folder `other` and drop every batch)."""
    started = time.perf_counter()
    if mode == "sync":
        from contact_events.builder.stages.sync import sync

        with DuckDBWarehouse(duckdb_path, read_only=True) as wh:
            rows = sync(wh, Path(other)).rows
    elif mode == "load":
        with DuckDBWarehouse(duckdb_path) as wh:
            rows = load_directory(wh, Path(other)).rows
    else:
        from collections import Counter

        from contact_events.builder.stages.load import read_jsonl
        from contact_events.builder.stages.profiles import PROFILES_DIR, load_profile

        rows = {}
        tables = load_profile(PROFILES_DIR / "flat", "flat").tables or {}
        for table in tables:
            batches = read_jsonl(Path(other, f"{table}.jsonl"), table, Counter(), tables)
            rows[table] = sum(b.num_rows for b in batches)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_rss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This process's own high-water RSS (VmHWM). Not ru_maxrss: Linux carries that over
    fork + exec, so a child of a big parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(args: list[str]) -> tuple[dict, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.sync_bench", *args],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result, result["peak_rss_mib"]


def baseline(wh: DuckDBWarehouse, path: Path) -> dict[str, float]:
    """Raw executemany of the same ledger rows (in memory first), then the same indexes."""
    rows = [row for batch in wh.read_batches("proj_contact_events") for row in batch_rows(batch)]
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.executescript(read_query("mirror/schema"))
    started = time.perf_counter()
    con.execute("BEGIN")
    con.executemany("INSERT INTO contact_events VALUES (?,?,?,?,?,?,?,?,?)", rows)
    con.execute("COMMIT")
    load = time.perf_counter() - started
    con.executescript(read_query("mirror/indexes"))
    total = time.perf_counter() - started
    con.close()
    return {"rows": len(rows), "load_s": load, "total_s": total}


def run_size(events: int, contacts: int, console: Console) -> dict[str, object]:
    root = OUT / f"sync-{events}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    settings = Settings(
        duckdb_path=root / "warehouse.duckdb",
        mirror_path=root / "mirror.db",
        practice_emails=list(PRACTICE_EMAILS),
    )
    t = time.perf_counter()
    write_demo_data(root / "canon", DemoSize(contacts=contacts, events=events))
    gen_s = time.perf_counter() - t
    canon, duckdb_path = str(root / "canon"), str(settings.duckdb_path)
    parse_result, parse_rss = run_child(["--child", "parse", duckdb_path, canon])
    load_result, load_rss = run_child(["--child", "load", duckdb_path, canon])
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        report = build(wh, settings)
    sync_result, sync_rss = run_child(["--child", "sync", duckdb_path, str(root / "m.db")])
    with DuckDBWarehouse(settings.duckdb_path, read_only=True) as wh:
        base = baseline(wh, root / "baseline.db")
    synced_rows = sum(sync_result["rows"].values())
    result = {
        "events": events,
        "contacts": contacts,
        "ledger_rows": report.total_rows,
        "generate_s": gen_s,
        "canonical_rows": sum(load_result["rows"].values()),
        "parse_only_s": parse_result["seconds"],
        "parse_only_peak_rss_mib": parse_rss,
        "load_s": load_result["seconds"],
        "load_peak_rss_mib": load_rss,
        "build_s": report.seconds,
        "build_rows_per_s": report.total_rows / report.seconds,
        "sync_s": sync_result["seconds"],
        "sync_rows": synced_rows,
        "sync_rows_per_s": synced_rows / sync_result["seconds"],
        "sync_peak_rss_mib": sync_rss,
        "baseline_rows_per_s": base["rows"] / base["total_s"],
        "baseline_load_only_rows_per_s": base["rows"] / base["load_s"],
    }
    result["sync_vs_baseline"] = result["sync_rows_per_s"] / result["baseline_rows_per_s"]
    shutil.rmtree(root / "canon", ignore_errors=True)
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, action="append")
    parser.add_argument("--contacts", type=int, default=50_000)
    args = parser.parse_args()
    console = make_console()
    results = [run_size(n, args.contacts, console) for n in (args.events or [100_000, 1_000_000])]
    loads = Table(title="load (JSONL -> DuckDB), next to parsing the same files only")
    for col in ("events", "canonical rows", "parse s", "parse RSS MiB", "load s", "load RSS MiB"):
        loads.add_column(col, justify="right")
    for r in results:
        loads.add_row(
            f"{r['events']:,}",
            f"{r['canonical_rows']:,}",
            f"{r['parse_only_s']:.2f}",
            f"{r['parse_only_peak_rss_mib']:.0f}",
            f"{r['load_s']:.2f}",
            f"{r['load_peak_rss_mib']:.0f}",
        )
    console.print(loads)
    table = Table(title="build + sync (DuckDB -> SQLite mirror)")
    for col in (
        "events",
        "ledger rows",
        "build s",
        "sync s",
        "sync rows/s",
        "baseline rows/s",
        "sync/baseline",
        "sync peak RSS MiB",
    ):
        table.add_column(col, justify="right")
    for r in results:
        table.add_row(
            f"{r['events']:,}",
            f"{r['ledger_rows']:,}",
            f"{r['build_s']:.2f}",
            f"{r['sync_s']:.2f}",
            f"{r['sync_rows_per_s']:,.0f}",
            f"{r['baseline_rows_per_s']:,.0f}",
            f"{r['sync_vs_baseline']:.2f}",
            f"{r['sync_peak_rss_mib']:.0f}",
        )
    console.print(table)
    console.print_json(json.dumps(results))


if __name__ == "__main__":
    main()

"""Benchmark: a full build's time and peak RSS under CONTACT_EVENTS_DUCKDB_MEMORY_LIMIT.

    python -m bench.sync_bench --events 1000000      # leaves bench/out/sync-1000000/
    python -m bench.memory_limit_bench [--limit 512MB ...]

Each build runs in a fresh process on the same 1M-event warehouse (peak RSS = that
process's VmHWM); the first row, DuckDB's default budget (80% of RAM), is the baseline
the others are compared with.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from rich.table import Table

from bench.sync_bench import OUT, peak_rss_mib
from contact_events.builder.cli import make_console

WAREHOUSE = OUT / "sync-1000000" / "warehouse.duckdb"


def child(warehouse: str, limit: str) -> None:
    from contact_events.builder.core.config import Settings
    from contact_events.builder.demo.flat import PRACTICE_EMAILS
    from contact_events.builder.engine import open_warehouse
    from contact_events.builder.stages.build import build

    settings = Settings(
        duckdb_path=Path(warehouse),
        duckdb_memory_limit=None if limit == "default" else limit,
        practice_emails=list(PRACTICE_EMAILS),
    )
    started = time.perf_counter()
    with open_warehouse(settings) as wh:
        report = build(wh, settings)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rows": report.total_rows, "rss": peak_rss_mib()}))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", action="append")
    parser.add_argument("--warehouse", default=str(WAREHOUSE))
    args = parser.parse_args()
    if not Path(args.warehouse).exists():
        raise SystemExit(f"no warehouse at {args.warehouse}: run bench.sync_bench first")
    results = []
    for limit in ["default", *(args.limit or ["1GB", "512MB", "256MB"])]:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.memory_limit_bench", "--child", args.warehouse, limit],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        results.append({"limit": limit, **json.loads(proc.stdout.strip().splitlines()[-1])})
    base = results[0]
    table = Table(title="full build, 1M events, by DuckDB memory budget")
    for col in ("memory limit", "ledger rows", "build s", "× default time", "peak RSS MiB"):
        table.add_column(col, justify="right")
    for r in results:
        table.add_row(
            r["limit"],
            f"{r['rows']:,}",
            f"{r['seconds']:.2f}",
            f"{r['seconds'] / base['seconds']:.2f}",
            f"{r['rss']:.0f}",
        )
    make_console().print(table)


if __name__ == "__main__":
    main()

"""Benchmark: sync from BigQuery (local emulator) via the Storage Read API vs REST paging.

    python -m bench.bigquery_read_bench [--events 100000]

Starts the offline emulator the tests use, loads demo data, builds on it, then syncs the
same build twice into fresh mirrors: once reading through the Storage Read API (Arrow
over gRPC) and once with the Storage endpoint pointed at a closed port, so the adapter
falls back to REST paging. Same process, same data, same emulator.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
import time
from pathlib import Path

from rich.table import Table

from contact_events.builder.cli import make_console
from contact_events.builder.core.config import Settings
from contact_events.builder.demo.flat import PRACTICE_EMAILS, DemoSize, write_demo_data
from contact_events.builder.engine.adapters.bigquery import BigQueryWarehouse
from contact_events.builder.stages.build import build
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.sync import sync

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bq_emulator import LocalBigQuery  # noqa: E402

OUT = Path(__file__).parent / "out" / "bigquery"


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=5_000)
    args = parser.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    write_demo_data(OUT / "canon", DemoSize(contacts=args.contacts, events=args.events))
    settings = Settings(practice_emails=list(PRACTICE_EMAILS))
    emulator = LocalBigQuery().start()
    results = []
    try:

        def warehouse(storage: str) -> BigQueryWarehouse:
            return BigQueryWarehouse(
                "bench",
                "ce",
                endpoint=emulator.rest_url,
                storage_endpoint=storage,
                timeout=600,
                retry=False,
            )

        wh = warehouse(emulator.grpc_endpoint)
        t = time.perf_counter()
        load_directory(wh, OUT / "canon")
        load_s = time.perf_counter() - t
        report = build(wh, settings)
        for label, storage in (
            ("Storage Read API", emulator.grpc_endpoint),
            ("REST paging", closed_port()),
        ):
            wh = warehouse(storage)
            t = time.perf_counter()
            synced = sync(wh, OUT / f"{label.split()[0].lower()}.db")
            seconds = time.perf_counter() - t
            rows = sum(synced.rows.values())
            used = ", ".join(sorted(set(wh.read_paths.values())))
            results.append((label, used, rows, seconds, rows / seconds))
            wh.close()
    finally:
        emulator.stop()
    table = Table(title=f"sync from the BigQuery emulator, {report.total_rows:,} ledger rows")
    for col in ("read path", "used", "rows", "seconds", "rows/s"):
        table.add_column(col, justify="right" if col in ("rows", "seconds", "rows/s") else "left")
    for label, used, rows, seconds, rate in results:
        table.add_row(label, str(used), f"{rows:,}", f"{seconds:.2f}", f"{rate:,.0f}")
    console = make_console()
    console.print(table)
    console.print(
        f"load {load_s:.1f}s, build {report.seconds:.1f}s; "
        f"Storage Read / REST = {results[0][4] / results[1][4]:.1f}x"
    )


if __name__ == "__main__":
    main()

"""Benchmark: the build's staging step in four forms, on the same SQL and warehouse.

    python -m bench.staging_bench [--warehouse PATH] [--rounds 2]

Uses a built DuckDB warehouse (default: the flat one `python -m bench.profile_bench`
leaves). The staging statement is the build's own (`builder.stages.build.plan`'s "stage sources"
step: one `CREATE TABLE AS` of every source file's SELECT, UNION ALL'd), run as the build
runs it and three other ways: one `CREATE TABLE AS` per source file's SELECT followed by
`INSERT`s of the others into the same table, five separate tables, and the UNION ALL with
DuckDB's `preserve_insertion_order` off. Each form is preceded by an untimed `CHECKPOINT`
and followed by a timed one (a build pays for the rows it wrote when DuckDB checkpoints),
and the forms alternate within each round. Scratch tables are dropped at the end; the
build's own tables are left as a build leaves them.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from rich.table import Table

from contact_events.builder.cli import make_console
from contact_events.builder.core.config import Settings
from contact_events.builder.demo.flat import PRACTICE_EMAILS
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.engine.sql import Statement
from contact_events.builder.stages.build import STAGE, build_params, plan
from contact_events.builder.stages.profiles import profile_of
from contact_events.builder.stages.strategy import Strategy

DEFAULT_WAREHOUSE = Path(__file__).parent / "out" / "profiles" / "flat" / "warehouse.duckdb"
SCRATCH = "bench_stage_source_{}"


def forms(
    union: Statement, singles: list[Statement]
) -> dict[str, list[tuple[str, Statement | None]]]:
    """Each form's statements: (SQL, the build statement whose parameters it binds).
    `singles[i]` creates the staging table from source i alone."""
    create = f"CREATE OR REPLACE TABLE {STAGE} AS"
    return {
        "one CREATE TABLE AS of the UNION ALL (the build's)": [(union.sql, union)],
        "CREATE TABLE AS + INSERTs": [(singles[0].sql, singles[0])]
        + [(q.sql.replace(create, f"INSERT INTO {STAGE}", 1), q) for q in singles[1:]],
        "a table per source": [
            (q.sql.replace(create, f"CREATE OR REPLACE TABLE {SCRATCH.format(i)} AS", 1), q)
            for i, q in enumerate(singles)
        ],
        "the UNION ALL, preserve_insertion_order off": [
            ("SET preserve_insertion_order = false", None),
            (union.sql, union),
            ("SET preserve_insertion_order = true", None),
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = Settings(duckdb_path=args.warehouse, practice_emails=PRACTICE_EMAILS)
    profile = profile_of(settings)
    params = build_params(settings)
    results: dict[str, list[tuple[float, float]]] = {}
    with DuckDBWarehouse(args.warehouse) as wh:
        (step,) = [s for s in plan(wh, profile, Strategy("full", "full", "bench")) if s.alone]
        alone: Callable = step.alone  # type: ignore[assignment]
        union = step.statements[0]
        singles = [alone(source) for source in profile.sources]
        for _ in range(args.rounds):
            for label, statements in forms(union, singles).items():
                wh.con.execute("CHECKPOINT")
                started = time.perf_counter()
                for sql, binds in statements:
                    wh.con.execute(sql, binds.bind(params) if binds is not None else None)
                wrote = time.perf_counter() - started
                started = time.perf_counter()
                wh.con.execute("CHECKPOINT")
                results.setdefault(label, []).append((wrote, time.perf_counter() - started))
        for i in range(len(singles)):
            wh.con.execute(f"DROP TABLE IF EXISTS {SCRATCH.format(i)}")
    table = Table(title=f"staging {len(singles)} sources: statement + checkpoint, seconds")
    table.add_column("form")
    for n in range(args.rounds):
        table.add_column(f"round {n + 1}", justify="right")
    for label, runs in results.items():
        table.add_row(label, *(f"{a:.2f} + {c:.2f} = {a + c:.2f}" for a, c in runs))
    make_console().print(table)


if __name__ == "__main__":
    main()

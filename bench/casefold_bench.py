"""Benchmark: the one email rule (CONTRACT §2) on DuckDB, against the ASCII rule before it.

    python -m bench.casefold_bench [--profile flat] [--events 1000000] [--contacts 50000]
                                   [--rounds 2] [--native-sample 100000]

The demo practice of `--profile` at the given size is written, loaded and built once into
a DuckDB file under bench/out/casefold/. Then, `--rounds` times, alternating so a drift of
the machine's speed hits every form:

* the two statements that normalise emails row by row (`resolve/events`: every staged
  row's identity email; `resolve/contacts`: the contacts' emails), each followed by a
  `CHECKPOINT`, timed, in two forms: as the build runs them (the shipped case-folding
  table, `TRANSLATE(x, @casefold_from, @casefold_to)`, which builder/engine/sql.py runs on DuckDB
  as a per-character lookup), and with the previous rule (`TRANSLATE(x, 'A..Z', 'a..z')`);
* a whole full build in the same two forms (the previous rule rendered in place of the
  table by the same shim hook, everything else the build's own).

Once, on the first `--native-sample` staged rows, and on as many addresses that are all
different (one in seven accented and upper-cased, none repeated: the worst case, since
DuckDB evaluates a function once per distinct value of a dictionary-compressed column):
DuckDB's own TRANSLATE with the table's two strings (what the SQL would cost without the
shim), against the lookup on the same rows. Prints a table per round and the median
ratios; rows/s is staged rows per second.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import duckdb
import sqlglot
from rich.table import Table
from sqlglot import exp

from bench.profile_bench import generate
from contact_events.builder.cli import make_console
from contact_events.builder.core import contract as c
from contact_events.builder.core.config import Settings
from contact_events.builder.demo.flat import PRACTICE_EMAILS, DemoSize
from contact_events.builder.engine import sql
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.build import PREVIOUS_STAGE, STAGE, build, build_params
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.profiles import profile_of

OUT = Path(__file__).parent / "out" / "casefold"
STEPS = ("resolve/events", "resolve/contacts")
ASCII = (c.ASCII_UPPER, c.ASCII_UPPER.lower())


def prepare(profile: str, events: int, contacts: int) -> Settings:
    root = OUT / profile
    settings = Settings(
        profile=profile,
        duckdb_path=root / "warehouse.duckdb",
        mirror_path=root / "mirror.db",
        practice_emails=list(PRACTICE_EMAILS),
    )
    marker = root / f"{events}-{contacts}"
    if marker.exists():
        return settings
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    generate(profile, root / "canon", DemoSize(contacts=contacts, events=events))
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, root / "canon", profile=profile_of(settings))
        build(wh, settings)
    shutil.rmtree(root / "canon")
    marker.touch()
    return settings


def _ascii_rule(tree: exp.Expression) -> exp.Expression:
    """The previous rule in place of the table: TRANSLATE(x, 'A..Z', 'a..z')."""
    for node in list(tree.find_all(exp.Translate)):
        if sql._is_casefold(node):
            node.set("from_", exp.Literal.string(ASCII[0]))
            node.set("to", exp.Literal.string(ASCII[1]))
    return tree


@contextmanager
def previous_rule() -> Iterator[None]:
    """Render every statement with the ASCII rule (the shim hook), then restore."""
    shipped = sql._duckdb_casefold
    sql._duckdb_casefold = _ascii_rule  # type: ignore[assignment]
    sql.render.cache_clear()
    try:
        yield
    finally:
        sql._duckdb_casefold = shipped  # type: ignore[assignment]
        sql.render.cache_clear()


def time_steps(settings: Settings) -> float:
    params = build_params(settings)
    total = 0.0
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        # the staged rows as a build leaves them (it keeps them under PREVIOUS_STAGE)
        wh.con.execute(f"CREATE OR REPLACE TABLE {STAGE} AS SELECT * FROM {PREVIOUS_STAGE}")
        wh.con.execute("CHECKPOINT")
        for name in STEPS:
            for statement in wh.statements(name):
                started = time.perf_counter()
                wh.run(statement, params)
                wh.con.execute("CHECKPOINT")
                total += time.perf_counter() - started
    return total


def time_build(settings: Settings) -> float:
    started = time.perf_counter()
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        build(wh, settings)
    return time.perf_counter() - started  # the close's checkpoint included


def staged_rows(settings: Settings) -> int:
    with DuckDBWarehouse(settings.duckdb_path, read_only=True) as wh:
        return int(wh.con.execute(f"SELECT COUNT(*) FROM {PREVIOUS_STAGE}").fetchone()[0])


def native_vs_lookup(settings: Settings, sample: int) -> dict[str, float]:
    """Seconds to fold `sample` staged emails: DuckDB's TRANSLATE with the table's strings,
    and the shim's lookup (the same SELECT otherwise; count(DISTINCT) so none is skipped)."""
    text = (
        "SELECT COUNT(DISTINCT TRANSLATE(TRIM(source_email, ' \\t\\n\\r'), @casefold_from, "
        f"@casefold_to)) AS n FROM (SELECT source_email FROM {PREVIOUS_STAGE} LIMIT {sample})"
    )
    tree = sqlglot.parse_one(text, read="bigquery")
    native = tree.sql(dialect="duckdb")
    lookup = sql._duckdb_casefold(tree.copy()).sql(dialect="duckdb")
    params = {"casefold_from": c.CASEFOLD_FROM, "casefold_to": c.CASEFOLD_TO}
    out = {}
    with DuckDBWarehouse(settings.duckdb_path, read_only=True) as wh:
        for label, statement in (("native TRANSLATE", native), ("lookup (shipped)", lookup)):
            started = time.perf_counter()
            n = wh.con.execute(statement, params).fetchone()[0]
            out[label] = time.perf_counter() - started
            out[f"{label} distinct"] = n
    unique = duckdb.connect()
    unique.execute(
        f"CREATE TABLE {PREVIOUS_STAGE} AS SELECT CASE WHEN i % 7 = 0 "
        "THEN 'SØREN.ØSTERGAARD' || i || '@EXAMPLE.DK' ELSE 'User.Name' || i || '@Example.COM' "
        f"END AS source_email FROM range({sample}) AS r(i)"
    )
    for label, statement in (("native TRANSLATE", native), ("lookup (shipped)", lookup)):
        started = time.perf_counter()
        n = unique.execute(statement, params).fetchone()[0]
        out[f"{label} unique"] = time.perf_counter() - started
        out[f"{label} unique distinct"] = n
    unique.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="flat", choices=("flat", "lorchestra"))
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--native-sample", type=int, default=100_000)
    args = parser.parse_args()
    console = make_console()
    settings = prepare(args.profile, args.events, args.contacts)
    rows = staged_rows(settings)
    with DuckDBWarehouse(settings.duckdb_path, read_only=True) as wh:
        (non_ascii,) = wh.con.execute(
            f"SELECT COUNT(*) FROM {PREVIOUS_STAGE} WHERE strlen(source_email) != "
            "length(source_email)"
        ).fetchone()
    console.print(
        f"{args.profile} demo, {args.events:,} events / {args.contacts:,} contacts: "
        f"{rows:,} staged rows, {non_ascii:,} with a non-ASCII email"
    )
    forms: dict[str, Callable[[], AbstractContextManager[None]]] = {
        "table (shipped)": _nothing,
        "ASCII (previous)": previous_rule,
    }
    results: dict[str, dict[str, list[float]]] = {f: {"steps": [], "build": []} for f in forms}
    for round_ in range(1, args.rounds + 1):
        table = Table(title=f"round {round_}")
        for column in ("rule", "events+contacts steps", "rows/s", "full build"):
            table.add_column(column, justify="right" if column != "rule" else "left")
        order = list(forms) if round_ % 2 else list(reversed(forms))
        for form in order:
            with forms[form]():
                steps = time_steps(settings)
                whole = time_build(settings)
            results[form]["steps"].append(steps)
            results[form]["build"].append(whole)
            table.add_row(form, f"{steps:.2f} s", f"{rows / steps:,.0f}", f"{whole:.2f} s")
        console.print(table)
    shipped, previous = results["table (shipped)"], results["ASCII (previous)"]
    if shipped["steps"]:  # --rounds 0: only the native comparison below
        steps = statistics.median(shipped["steps"]) / statistics.median(previous["steps"])
        whole = statistics.median(shipped["build"]) / statistics.median(previous["build"])
        console.print(f"median shipped / previous: steps {steps:.2f}x, full build {whole:.2f}x")
    if args.native_sample:
        native = native_vs_lookup(settings, args.native_sample)
        console.print(
            f"{args.native_sample:,} staged emails: DuckDB's own TRANSLATE with the table "
            f"{native['native TRANSLATE']:.2f} s, the lookup {native['lookup (shipped)']:.2f} s "
            f"({native['native TRANSLATE'] / native['lookup (shipped)']:.0f}x); "
            f"same distinct results: {same(native, ' distinct')}"
        )
        console.print(
            f"{args.native_sample:,} addresses all different: DuckDB's own TRANSLATE "
            f"{native['native TRANSLATE unique']:.2f} s, the lookup "
            f"{native['lookup (shipped) unique']:.2f} s "
            f"({native['native TRANSLATE unique'] / native['lookup (shipped) unique']:.0f}x); "
            "same distinct results: "
            f"{same(native, ' unique distinct')}"
        )


def same(found: dict[str, float], suffix: str) -> bool:
    return found[f"native TRANSLATE{suffix}"] == found[f"lookup (shipped){suffix}"]


@contextmanager
def _nothing() -> Iterator[None]:
    yield


if __name__ == "__main__":
    main()

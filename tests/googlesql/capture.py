"""The covered runs: real builder runs on the BigQuery emulator, with every statement and
job the BigQuery adapter sends captured at the one execute hook (`builder.core.trace.watch`).

Each run starts from an empty dataset of its own and records, in order, what the adapter
sent while it loaded, built (full, then incremental), synced, validated, and for the flat
profile also while `doctor` and `build --dry-run` ran. Nothing here picks statements: a
source file that changes is covered by the next run as it is. `seed` names the canonical
tables a run's dataset held before it started (made outside the adapter, as a practice's
own warehouse is); every other table comes from a traced statement or job.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp

from contact_events.builder.core import trace
from contact_events.builder.core.config import Settings
from contact_events.builder.engine.adapters.bigquery import BigQueryWarehouse
from contact_events.builder.stages.build import build
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.profiles import profile_of
from contact_events.builder.stages.strategy import plan
from contact_events.builder.stages.sync import sync
from contact_events.builder.validate import validate

PROJECT = "contact-events-test"
REPO = Path(__file__).resolve().parents[2]
EXAMPLE_SOURCES = REPO / "examples" / "sources"
EXAMPLE_WAREHOUSE = REPO / "examples" / "warehouse.sql"
PRACTICE = "front@practice.example"
# examples/warehouse.sql's DuckDB column types as a practice's BigQuery tables hold them
EXAMPLE_TYPES = {
    exp.DataType.Type.VARCHAR: "STRING",
    exp.DataType.Type.TEXT: "STRING",
    exp.DataType.Type.TIMESTAMP: "TIMESTAMP",
    exp.DataType.Type.TIMESTAMPTZ: "TIMESTAMP",
    exp.DataType.Type.TIMESTAMPNTZ: "TIMESTAMP",
    exp.DataType.Type.BOOLEAN: "BOOL",
    exp.DataType.Type.INT: "INT64",
    exp.DataType.Type.BIGINT: "INT64",
}


@dataclass
class Run:
    """One covered run: what the adapter sent, in order, and where."""

    name: str
    dataset: str
    root: Path
    seed: dict[str, dict[str, str]] = field(default_factory=dict)
    traced: list[trace.Traced] = field(default_factory=list)
    project: str = PROJECT
    seconds: float = 0.0  # how long the run took, emulator and all
    incremental: bool = True  # whether it built incrementally after its full build

    @property
    def statements(self) -> list[trace.Traced]:
        """The SQL statements (jobs left out)."""
        return [t for t in self.traced if t.job is None]

    @contextlib.contextmanager
    def capturing(self) -> Iterator[None]:
        def keep(traced: trace.Traced) -> None:
            if traced.engine == "bigquery":
                self.traced.append(traced)

        with trace.watch(keep):
            yield


def settings_for(run: Run, emulator, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "warehouse": "bigquery",
        "bq_project": run.project,
        "bq_dataset": run.dataset,
        "bq_endpoint": emulator.rest_url,
        "bq_storage_endpoint": emulator.grpc_endpoint,
        "mirror_path": run.root / "mirror.db",
        "duckdb_path": run.root / "unused.duckdb",
        "practice_emails": [PRACTICE],
    }
    values.update(overrides)
    return Settings(**values)


def environment(settings: Settings) -> dict[str, str]:
    """The settings as CONTACT_EVENTS_* variables, for the command line."""
    env = {
        "CONTACT_EVENTS_WAREHOUSE": "bigquery",
        "CONTACT_EVENTS_BQ_PROJECT": str(settings.bq_project),
        "CONTACT_EVENTS_BQ_DATASET": str(settings.bq_dataset),
        "CONTACT_EVENTS_BQ_ENDPOINT": str(settings.bq_endpoint),
        "CONTACT_EVENTS_BQ_STORAGE_ENDPOINT": str(settings.bq_storage_endpoint),
        "CONTACT_EVENTS_MIRROR_PATH": str(settings.mirror_path),
        "CONTACT_EVENTS_PRACTICE_EMAILS": ",".join(settings.practice_emails),
        "CONTACT_EVENTS_PROFILE": settings.profile,
    }
    if settings.sources_dir is not None:
        env["CONTACT_EVENTS_SOURCES_DIR"] = str(settings.sources_dir)
    return env


def warehouse_for(settings: Settings) -> BigQueryWarehouse:
    return BigQueryWarehouse(
        str(settings.bq_project),
        str(settings.bq_dataset),
        endpoint=settings.bq_endpoint,
        storage_endpoint=settings.bq_storage_endpoint,
        timeout=120,
        retry=False,
    )


def cli(run: Run, settings: Settings, *args: str) -> str:
    """`contact-events ARGS` in this process (so the hook sees it), in the run's folder."""
    from typer.testing import CliRunner

    from contact_events.builder.cli import app

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with contextlib.chdir(run.root):
            result = CliRunner().invoke(app, list(args), env=environment(settings))
    finally:  # the command's logging setup writes to CliRunner's stream, closed by now
        root.handlers[:] = handlers
        root.setLevel(level)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.output


def build_and_check(
    run: Run, settings: Settings, wh: BigQueryWarehouse, incremental: bool = True
) -> None:
    """Full build, sync, incremental build, incremental sync, validate: all captured."""
    full = build(wh, settings)
    assert full.mode == "full", full.strategy
    sync(wh, settings.mirror_path)
    if incremental:
        again = build(wh, settings, plan(wh, "incremental"))
        assert again.mode == "incremental", again.strategy
        sync(wh, settings.mirror_path, plan(wh, "incremental", settings.mirror_path, built=True))
    result = validate(wh, settings, settings.mirror_path)
    assert result.ok, result.findings[:3]


def flat_run(root: Path, emulator) -> Run:
    """The flat profile: load, doctor, build --dry-run, full and incremental builds."""
    from contact_events.builder.demo.flat import DemoSize, write_demo_data

    run = Run("flat", "gate_flat", root)
    canonicals = root / "canonicals"
    write_demo_data(canonicals, DemoSize(contacts=30, events=300, seed=3))
    settings = settings_for(run, emulator)
    with warehouse_for(settings) as wh, run.capturing():
        load_directory(wh, canonicals, profile=profile_of(settings))
        cli(run, settings, "doctor")
        assert "CREATE OR REPLACE TABLE" in cli(run, settings, "build", "--dry-run")
        build_and_check(run, settings, wh)
    return run


def lorchestra_run(root: Path, emulator, payload: str) -> Run:
    """The lorchestra profile with `payload` held as JSON (the table `load` creates) or
    as STRING (a dataset made that way before the first load: `load` keeps it). Only the
    staging statement reads `payload`, and a build renders it the same way full or
    incremental (test_payload_types checks this on the JSON run), so the STRING run
    builds once: the emulator spends most of a lorchestra build translating that one
    statement."""
    from contact_events.builder.demo.flat import DemoSize
    from contact_events.builder.demo.lorchestra import write_lorchestra_demo_data

    run = Run(f"lorchestra, payload {payload}", f"gate_lorchestra_{payload.lower()}", root)
    run.incremental = payload == "JSON"
    canonicals = root / "canonicals"
    write_lorchestra_demo_data(canonicals, DemoSize(contacts=40, events=400, seed=5))
    settings = settings_for(run, emulator, profile="lorchestra")
    profile = profile_of(settings)
    with warehouse_for(settings) as wh:
        if payload == "STRING":
            from google.cloud import bigquery

            columns = {**profile.tables["canonical_objects"], "payload": "STRING"}
            wh.client.create_table(
                bigquery.Table(
                    wh.table_id("canonical_objects"),
                    schema=[bigquery.SchemaField(c, t) for c, t in columns.items()],
                )
            )
            run.seed["canonical_objects"] = columns
        with run.capturing():
            report = load_directory(wh, canonicals, profile=profile)
            assert bool(report.notes) == (payload == "STRING"), report.notes
            assert wh.column_types("canonical_objects")["payload"] == payload
            build_and_check(run, settings, wh, incremental=run.incremental)
    return run


def sources_run(root: Path, emulator) -> Run:
    """A practice's own sources folder (the worked example) over its own tables."""
    run = Run("examples/sources", "gate_sources", root)
    settings = settings_for(run, emulator, sources_dir=EXAMPLE_SOURCES)
    with warehouse_for(settings) as wh:
        run.seed = example_warehouse(wh)
        with run.capturing():
            assert "CREATE OR REPLACE TABLE" in cli(run, settings, "build", "--dry-run")
            build_and_check(run, settings, wh)
    return run


def example_warehouse(wh: BigQueryWarehouse) -> dict[str, dict[str, str]]:
    """examples/warehouse.sql made in the emulator's dataset, outside the hook: its
    tables with the column types a practice's BigQuery tables would have, its rows
    inserted by its own INSERTs (transpiled). Returns the tables' columns."""
    from google.cloud import bigquery

    tables: dict[str, dict[str, str]] = {}
    for tree in sqlglot.parse(EXAMPLE_WAREHOUSE.read_text(), read="duckdb"):
        if isinstance(tree, exp.Create):
            schema = tree.this
            name = schema.this.name
            tables[name] = {
                column.name: EXAMPLE_TYPES[column.args["kind"].this]
                for column in schema.expressions
                if isinstance(column, exp.ColumnDef)
            }
            wh.client.delete_table(wh.table_id(name), not_found_ok=True)
            wh.client.create_table(
                bigquery.Table(
                    wh.table_id(name),
                    schema=[bigquery.SchemaField(c, t) for c, t in tables[name].items()],
                )
            )
        elif isinstance(tree, exp.Insert):
            wh.client.query(
                tree.sql(dialect="bigquery"),
                job_config=bigquery.QueryJobConfig(default_dataset=f"{wh.project}.{wh.dataset}"),
            ).result()
    return tables


RUNS: dict[str, Callable[..., Run]] = {
    "flat": flat_run,
    "lorchestra-json": lambda root, emulator: lorchestra_run(root, emulator, "JSON"),
    "lorchestra-string": lambda root, emulator: lorchestra_run(root, emulator, "STRING"),
    "sources": sources_run,
}

"""Shared fixtures: real DuckDB warehouses and real SQLite mirrors in tmp_path."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from builder.build import BuildReport, build
from builder.config import Settings
from builder.load import load_directory
from builder.sync import SyncReport, sync
from builder.warehouse import open_warehouse

PRACTICE = "front@practice.example"


def write_canonicals(directory: Path, tables: Mapping[str, Sequence[Mapping[str, object]]]) -> Path:
    """Write `{table: [row, ...]}` as DIR/<table>.jsonl, the CONTRACT §1 input format."""
    directory.mkdir(parents=True, exist_ok=True)
    for table, rows in tables.items():
        with (directory / f"{table}.jsonl").open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return directory


def make_settings(root: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "duckdb_path": root / "warehouse.duckdb",
        "mirror_path": root / "contact_events.db",
        "practice_emails": [PRACTICE],
    }
    values.update(overrides)
    return Settings(**values)


def build_mirror(
    root: Path, tables: Mapping[str, Sequence[Mapping[str, object]]], **overrides: object
) -> tuple[Settings, BuildReport, SyncReport]:
    """canonical rows -> JSONL -> load -> build -> sync, all on real files under root."""
    settings = make_settings(root, **overrides)
    canon = write_canonicals(root / "canonicals", tables)
    with open_warehouse(settings) as wh:
        load_directory(wh, canon)
        report = build(wh, settings)
        synced = sync(wh, settings.mirror_path)
    return settings, report, synced


@pytest.fixture
def mirror_factory(tmp_path: Path):
    """Call with {table: rows} (and Settings overrides); returns (settings, build, sync)."""
    counter = iter(range(1000))

    def factory(tables, **overrides):
        return build_mirror(tmp_path / f"m{next(counter)}", tables, **overrides)

    return factory


@pytest.fixture(scope="session")
def bigquery_emulator():
    """One local BigQuery (REST + Storage Read gRPC) for the whole test session."""
    from bq_emulator import LocalBigQuery

    emulator = LocalBigQuery().start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def bigquery_warehouse(bigquery_emulator, request):
    """A BigQueryWarehouse on the emulator, in a dataset of its own for this test."""
    from builder.warehouse.bigquery import BigQueryWarehouse

    dataset = "t_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[:60]
    warehouse = BigQueryWarehouse(
        "contact-events-test",
        dataset,
        endpoint=bigquery_emulator.rest_url,
        storage_endpoint=bigquery_emulator.grpc_endpoint,
        timeout=120,
        retry=False,
    )
    try:
        yield warehouse
    finally:
        warehouse.close()

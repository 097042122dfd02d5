"""Warehouse adapters behind one interface; `open_warehouse` picks one from settings."""

from __future__ import annotations

from builder.config import Settings
from builder.warehouse.base import Warehouse


def open_warehouse(settings: Settings, read_only: bool = False) -> Warehouse:
    if settings.warehouse == "bigquery":
        from builder.warehouse.bigquery import BigQueryWarehouse

        return BigQueryWarehouse.from_settings(settings)
    from builder.warehouse.duckdb import DuckDBWarehouse

    return DuckDBWarehouse(
        settings.duckdb_path, read_only=read_only, memory_limit=settings.duckdb_memory_limit
    )


__all__ = ["Warehouse", "open_warehouse"]

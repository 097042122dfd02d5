"""Warehouse adapters behind one interface; `open_warehouse` picks one from settings."""

from __future__ import annotations

from builder.config import Settings
from builder.errors import ConfigError
from builder.warehouse.base import Warehouse

BIGQUERY_EXTRA = "pip install 'contact-events[bigquery]'"


def bigquery_installed() -> bool:
    """Whether the `[bigquery]` extra's libraries can be imported."""
    try:
        import google.api_core  # noqa: F401
        import google.cloud.bigquery  # noqa: F401
        import google.cloud.bigquery_storage  # noqa: F401
    except ImportError:
        return False
    return True


def open_warehouse(settings: Settings, read_only: bool = False) -> Warehouse:
    if settings.warehouse == "bigquery":
        if not bigquery_installed():
            raise ConfigError(
                "CONTACT_EVENTS_WAREHOUSE=bigquery needs the BigQuery libraries, which are "
                f"an extra: {BIGQUERY_EXTRA}"
            )
        from builder.warehouse.bigquery import BigQueryWarehouse

        return BigQueryWarehouse.from_settings(settings)
    from builder.warehouse.duckdb import DuckDBWarehouse

    return DuckDBWarehouse(
        settings.duckdb_path, read_only=read_only, memory_limit=settings.duckdb_memory_limit
    )


__all__ = ["BIGQUERY_EXTRA", "Warehouse", "bigquery_installed", "open_warehouse"]

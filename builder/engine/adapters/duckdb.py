"""DuckDB adapter: the embedded default warehouse, one file on disk."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, field_validator

from ...core import trace
from ...core.errors import BusyError, ContactEventsError, WarehouseError
from ...core.files import disk_full, is_disk_full, make_private, private_dir
from ..base import Capabilities, Params, Warehouse, staging_name

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

log = logging.getLogger("contact_events.warehouse")
BATCH_VIEW = "batch"  # the Arrow batch a load step reads (queries/engine/duckdb/stage_*.sql)
MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|B)", re.ASCII)


class DuckDBSettings(BaseModel):
    """CONTACT_EVENTS_DUCKDB_*: the file, and DuckDB's memory budget (e.g. "512MB"; it
    spills to disk beyond it; None: DuckDB's own default, 80% of the machine's memory)."""

    duckdb_path: Path = Path("./data/warehouse.duckdb")
    duckdb_memory_limit: str | None = None

    @field_validator("duckdb_memory_limit", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _a_size(cls, value: str | None) -> str | None:
        if value is not None and not MEMORY_SIZE.fullmatch(value):
            raise ValueError("expected a size such as 512MB or 2GB")
        return value


def duckdb_error(e: duckdb.Error, path: Path) -> ContactEventsError:
    """A DuckDB error as the builder's: another process holding the file is BusyError, a
    full disk names the folder and the space; anything else keeps DuckDB's text."""
    text = str(e)
    if "Could not set lock" in text or "Conflicting lock" in text:
        holder = text.split("Conflicting lock is held in", 1)[-1].split(". See also")[0]
        who = f" ({holder.strip()})" if "Conflicting lock" in text else ""
        return BusyError(
            f"the DuckDB warehouse {path} is open in another process{who}; "
            "try again when it has finished"
        )
    if is_disk_full(e):
        needed = path.stat().st_size if path.exists() else None
        doing = f"writing the DuckDB warehouse {path}"
        return WarehouseError(disk_full(path.parent, needed, doing))
    return WarehouseError(f"DuckDB: {e}")


class DuckDBWarehouse(Warehouse):
    kind = "duckdb"
    dialect = "duckdb"
    settings_model = DuckDBSettings
    capabilities = Capabilities(single_process_file=True)

    @classmethod
    def open(cls, settings: DuckDBSettings, *, read_only: bool = False) -> DuckDBWarehouse:
        return cls(
            settings.duckdb_path, read_only=read_only, memory_limit=settings.duckdb_memory_limit
        )

    @classmethod
    def describe(cls, settings: DuckDBSettings) -> str:
        return f"DuckDB {settings.duckdb_path}"

    @classmethod
    def not_ready(cls, settings: DuckDBSettings) -> str | None:
        if not Path(settings.duckdb_path).exists():
            return "no file yet; `contact-events load DIR` (or `demo`) creates it"
        return None

    def __init__(self, path: Path | str, read_only: bool = False, memory_limit: str | None = None):
        import duckdb

        self.path = Path(path)
        if not read_only:
            private_dir(self.path.parent)
        elif not self.path.exists():
            raise WarehouseError(f"no DuckDB warehouse at {self.path}; run `contact-events load`")
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as e:
            raise duckdb_error(e, self.path) from e
        log.info("opened the DuckDB warehouse %s%s", self.path, " read-only" if read_only else "")
        if not read_only:  # owner-only (files.py); DuckDB creates it with the umask's mode
            make_private(self.path)
        self.run_query_file("engine/duckdb/session")
        if memory_limit:
            self.run_query_file("engine/duckdb/memory_limit", {"memory_limit": memory_limit})

    def _execute(self, statement: str, params: Params | None) -> None:
        import duckdb

        try:
            self.con.execute(statement, dict(params) if params else None)
        except duckdb.Error as e:
            raise duckdb_error(e, self.path) from e

    def _fetch(self, statement: str, params: Params | None) -> list[dict[str, object]]:
        import duckdb

        try:
            cur = self.con.execute(statement, dict(params) if params else None)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        except duckdb.Error as e:
            raise duckdb_error(e, self.path) from e

    def _load_staging(
        self, table: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]
    ) -> None:
        """Written outside a transaction, so DuckDB spills it to the file as it goes (rows
        written inside one are held in memory until commit: 2x the peak RSS at 1M rows)."""
        import duckdb

        (create,) = self.statements("engine/duckdb/stage_create", incoming=table)
        (append,) = self.statements("engine/duckdb/stage_append", incoming=table)
        try:
            self.con.register(BATCH_VIEW, schema.empty_table())
            self.run(create)
            for batch in batches:
                self.con.register(BATCH_VIEW, batch)
                self.run(append)
        except duckdb.Error as e:
            raise duckdb_error(e, self.path) from e
        finally:
            with contextlib.suppress(duckdb.Error):
                self.con.unregister(BATCH_VIEW)

    def _swap(self, tables: Sequence[str]) -> None:
        """Renames only, all in one transaction."""
        import duckdb

        try:
            trace.statement(self.kind, "BEGIN TRANSACTION")
            self.con.begin()
            for table in tables:
                self.run_query_file(
                    "engine/duckdb/swap", target=table, incoming=staging_name(table)
                )
            trace.statement(self.kind, "COMMIT")
            self.con.commit()
        except BaseException as e:
            with contextlib.suppress(duckdb.Error):  # no transaction left to roll back
                self.con.rollback()
            if isinstance(e, duckdb.Error):
                raise duckdb_error(e, self.path) from e
            raise

    def read_batches(
        self, table: str, columns: Sequence[str] | None = None, batch_rows: int = 50_000
    ) -> Iterator[pa.RecordBatch]:
        import duckdb

        if not self.table_exists(table):
            raise WarehouseError(f"table {table} does not exist in {self.path}")
        from .. import sql

        statement = sql.select_columns(table, columns, self.dialect)
        cur = self.con.cursor()  # its own cursor: reading never blocks the connection
        try:
            for session in self.statements("engine/duckdb/session"):
                cur.execute(session.sql)
            trace.statement(self.kind, statement)
            reader = cur.sql(statement).to_arrow_reader(batch_rows)
            yield from reader
        except duckdb.Error as e:
            raise duckdb_error(e, self.path) from e
        finally:
            cur.close()

    def tables(self) -> list[str]:
        return [str(r["table_name"]) for r in self.fetch_query_file("engine/duckdb/tables")]

    def table_exists(self, table: str) -> bool:
        # fetch() reads the result to the end: a half-read result blocks `register`.
        (row,) = self.fetch_query_file("engine/duckdb/table_exists", {"table": table})
        return bool(row["n"])

    def close(self) -> None:
        self.con.close()


ADAPTER = DuckDBWarehouse

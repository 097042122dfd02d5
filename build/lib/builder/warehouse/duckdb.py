"""DuckDB adapter: the embedded default warehouse, one file on disk."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from builder import sql, trace
from builder.errors import BusyError, ContactEventsError, WarehouseError
from builder.files import disk_full, is_disk_full, make_private, private_dir
from builder.warehouse.base import Params, Warehouse, staging_name

log = logging.getLogger("contact_events.warehouse")
BATCH_VIEW = "batch"  # the Arrow batch a load step reads (queries/engine/duckdb/stage_*.sql)


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

    def __init__(self, path: Path | str, read_only: bool = False, memory_limit: str | None = None):
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
        try:
            self.con.execute(statement, dict(params) if params else None)
        except duckdb.Error as e:
            raise duckdb_error(e, self.path) from e

    def _fetch(self, statement: str, params: Params | None) -> list[dict[str, object]]:
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
        if not self.table_exists(table):
            raise WarehouseError(f"table {table} does not exist in {self.path}")
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

"""DuckDB adapter: the embedded default warehouse, one file on disk."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from builder.errors import WarehouseError
from builder.warehouse.base import Params, Warehouse


class DuckDBWarehouse(Warehouse):
    kind = "duckdb"
    dialect = "duckdb"

    def __init__(self, path: Path | str, read_only: bool = False, memory_limit: str | None = None):
        self.path = Path(path)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise WarehouseError(f"no DuckDB warehouse at {self.path}; run `contact-events load`")
        self.con = duckdb.connect(str(self.path), read_only=read_only)
        # Offset-less timestamps are read in the session time zone: make that UTC.
        self.con.execute("SET TimeZone='UTC'")
        if memory_limit:  # validated by Settings (digits and a unit): safe to inline
            self.con.execute(f"SET memory_limit='{memory_limit}'")

    def execute(self, statement: str, params: Params | None = None) -> None:
        try:
            self.con.execute(statement, dict(params) if params else None)
        except duckdb.Error as e:
            raise WarehouseError(f"DuckDB: {e}") from e

    def fetch(self, statement: str, params: Params | None = None) -> list[dict[str, object]]:
        try:
            cur = self.con.execute(statement, dict(params) if params else None)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        except duckdb.Error as e:
            raise WarehouseError(f"DuckDB: {e}") from e

    def replace_tables(
        self, tables: Mapping[str, tuple[pa.Schema, Iterable[pa.RecordBatch]]]
    ) -> None:
        """Load every table into `<name>__incoming`, then swap all in one transaction.

        The staging tables are written outside a transaction, so DuckDB spills them to
        the file as it goes (rows written inside a transaction are held in memory until
        commit: 2x the peak RSS at a million rows); the swap is renames only.
        """
        con = self.con
        staged: list[str] = []
        swapping = False
        try:
            for name, (schema, batches) in tables.items():
                staged.append(name)
                con.register("_incoming", schema.empty_table())
                con.execute(f'CREATE OR REPLACE TABLE "{name}__incoming" AS FROM _incoming')
                for batch in batches:
                    con.register("_incoming", batch)
                    con.execute(f'INSERT INTO "{name}__incoming" FROM _incoming')
            con.execute("BEGIN TRANSACTION")
            swapping = True
            for name in staged:
                con.execute(f'DROP TABLE IF EXISTS "{name}"')
                con.execute(f'ALTER TABLE "{name}__incoming" RENAME TO "{name}"')
            con.execute("COMMIT")
        except BaseException as e:
            # Cleanup is best effort: the error being handled is the one to report.
            with contextlib.suppress(duckdb.Error):
                if swapping:
                    con.execute("ROLLBACK")
                for name in staged:
                    con.execute(f'DROP TABLE IF EXISTS "{name}__incoming"')
            if isinstance(e, duckdb.Error):
                raise WarehouseError(f"DuckDB: {e}") from e
            raise
        finally:
            with contextlib.suppress(duckdb.Error):
                con.unregister("_incoming")

    def read_batches(
        self, table: str, columns: Sequence[str] | None = None, batch_rows: int = 50_000
    ) -> Iterator[pa.RecordBatch]:
        if not self.table_exists(table):
            raise WarehouseError(f"table {table} does not exist in {self.path}")
        cols = ", ".join(f'"{c}"' for c in columns) if columns else "*"
        cur = self.con.cursor()
        cur.execute("SET TimeZone='UTC'")
        reader = cur.sql(f'SELECT {cols} FROM "{table}"').to_arrow_reader(batch_rows)
        try:
            yield from reader
        finally:
            cur.close()

    def table_exists(self, table: str) -> bool:
        # fetch() reads the result to the end: a half-read result blocks `register`.
        (row,) = self.fetch(
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $table",
            {"table": table},
        )
        return bool(row["n"])

    def close(self) -> None:
        self.con.close()

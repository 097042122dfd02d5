"""DuckDB adapter: the embedded default warehouse, one file on disk."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from builder.errors import WarehouseError
from builder.warehouse.base import Params, Warehouse


class DuckDBWarehouse(Warehouse):
    kind = "duckdb"
    dialect = "duckdb"

    def __init__(self, path: Path | str, read_only: bool = False):
        self.path = Path(path)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise WarehouseError(f"no DuckDB warehouse at {self.path}; run `contact-events load`")
        self.con = duckdb.connect(str(self.path), read_only=read_only)
        # Offset-less timestamps are read in the session time zone: make that UTC.
        self.con.execute("SET TimeZone='UTC'")

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
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for name, (schema, batches) in tables.items():
                con.register("_incoming", schema.empty_table())
                con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _incoming')
                for batch in batches:
                    con.register("_incoming", batch)
                    con.execute(f'INSERT INTO "{name}" SELECT * FROM _incoming')
                con.unregister("_incoming")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

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
        row = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()
        return bool(row and row[0])

    def close(self) -> None:
        self.con.close()

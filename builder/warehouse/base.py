"""The warehouse interface: the only thing the builder knows about an engine."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence

import pyarrow as pa

from builder import sql

log = logging.getLogger("contact_events.sql")

Params = Mapping[str, object]


class Warehouse(ABC):
    """One engine. Adapters implement a handful of primitives; nothing else is engine-aware."""

    kind: str
    dialect: str  # sqlglot dialect name

    # --- primitives --------------------------------------------------------------
    @abstractmethod
    def execute(self, statement: str, params: Params | None = None) -> None:
        """Run one statement that returns nothing worth reading."""

    @abstractmethod
    def fetch(self, statement: str, params: Params | None = None) -> list[dict[str, object]]:
        """Run one query with a small result and return it as dicts."""

    @abstractmethod
    def replace_tables(
        self, tables: Mapping[str, tuple[pa.Schema, Iterable[pa.RecordBatch]]]
    ) -> None:
        """Replace each named table with the given rows, all or nothing where the engine can."""

    @abstractmethod
    def read_batches(
        self, table: str, columns: Sequence[str] | None = None, batch_rows: int = 50_000
    ) -> Iterator[pa.RecordBatch]:
        """Stream a whole table as Arrow record batches (memory does not grow with it)."""

    @abstractmethod
    def table_exists(self, table: str) -> bool: ...

    def estimate(self, statement: str, params: Params | None = None) -> str | None:
        """What running `statement` would cost, where the engine can say (dry run)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    # --- shared helpers ----------------------------------------------------------
    def qualifier(self) -> tuple[str | None, str | None]:
        """(catalog, db) to prefix table names with; none for an embedded engine."""
        return (None, None)

    def statements(self, query_name: str) -> tuple[sql.Statement, ...]:
        catalog, db = self.qualifier()
        return sql.render(query_name, self.dialect, catalog, db)

    def run_query_file(self, query_name: str, params: Params | None = None) -> None:
        """Run every statement of `queries/<query_name>.sql`, logging each one."""
        for statement in self.statements(query_name):
            log.debug("-- %s (%s)\n%s;", query_name, self.kind, statement.sql)
            self.execute(statement.sql, statement.bind(params))

    def fetch_query_file(
        self, query_name: str, params: Params | None = None
    ) -> list[dict[str, object]]:
        (statement,) = self.statements(query_name)
        log.debug("-- %s (%s)\n%s;", query_name, self.kind, statement.sql)
        return self.fetch(statement.sql, statement.bind(params))

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

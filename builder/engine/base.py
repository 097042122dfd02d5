"""The warehouse interface: the only thing the builder knows about an engine.

SQLMesh's engine adapters are the model: this base class holds every procedure that is
the same on each engine (running a queries/ file, tracing each statement, the
stage-then-swap of `replace_tables`), and an adapter implements a handful of hooks. An
adapter class also carries what the rest of the product asks of an engine without
opening it (dbt's plugins carry their credentials the same way): its settings model,
its capabilities, the extra its libraries come in, and how `doctor` names it. Importing
an adapter module is cheap: the engine's own libraries load when a warehouse opens.
"""

from __future__ import annotations

import importlib.util
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from ..core import trace

if TYPE_CHECKING:
    import pyarrow as pa

    from . import sql

log = logging.getLogger("contact_events.warehouse")

Params = Mapping[str, object]
STAGING_SUFFIX = "__incoming"


def staging_name(table: str) -> str:
    """Where `load` writes a canonical table before swapping it in."""
    return f"{table}{STAGING_SUFFIX}"


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, where the rest of the builder must ask."""

    # keeps GoogleSQL's PARTITION BY / CLUSTER BY table options (others drop them)
    storage_options: bool = False
    # one file that one process writes or several read (DuckDB): a reader (`validate`)
    # takes the writers' lock, so a writer starting meanwhile gets a clear BusyError
    single_process_file: bool = False


class Warehouse(ABC):
    """One engine. Adapters implement the hooks; nothing else is engine-aware."""

    kind: ClassVar[str]  # the CONTACT_EVENTS_WAREHOUSE value (the adapter module's name)
    dialect: ClassVar[str]  # sqlglot dialect name
    settings_model: ClassVar[type[BaseModel]]  # its CONTACT_EVENTS_* settings
    capabilities: ClassVar[Capabilities] = Capabilities()
    # the pip extra its libraries come in, and modules that are there when it is
    extra: ClassVar[str | None] = None
    extra_modules: ClassVar[tuple[str, ...]] = ()

    # --- the adapter, before any connection ------------------------------------------
    @classmethod
    @abstractmethod
    def open(cls, settings: Any, *, read_only: bool = False) -> Warehouse:
        """A connection from the adapter's validated settings (`settings_model`)."""

    @classmethod
    @abstractmethod
    def describe(cls, settings: Any) -> str:
        """Where the warehouse is, for `doctor` (e.g. `DuckDB ./data/warehouse.duckdb`)."""

    @classmethod
    def not_ready(cls, settings: Any) -> str | None:
        """Why opening it read-only cannot work yet (`doctor`), if it is plain already."""
        return None

    @classmethod
    def missing(cls) -> str | None:
        """The install command when the engine's libraries are not installed."""
        try:
            found = all(importlib.util.find_spec(m) is not None for m in cls.extra_modules)
        except ModuleNotFoundError:  # a parent package is missing
            found = False
        return None if found else f"pip install 'contact-events[{cls.extra}]'"

    # --- hooks -----------------------------------------------------------------------
    @abstractmethod
    def _execute(self, statement: str, params: Params | None) -> None:
        """Run one statement that returns nothing worth reading."""

    @abstractmethod
    def _fetch(self, statement: str, params: Params | None) -> list[dict[str, object]]:
        """Run one query with a small result and return it as dicts."""

    @abstractmethod
    def _load_staging(self, table: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]):
        """Write `batches` into the (new or emptied) table `table` with `schema`."""

    @abstractmethod
    def _swap(self, tables: Sequence[str]) -> None:
        """Replace each table with its staging table, all or nothing where the engine can."""

    @abstractmethod
    def read_batches(
        self, table: str, columns: Sequence[str] | None = None, batch_rows: int = 50_000
    ) -> Iterator[pa.RecordBatch]:
        """Stream a whole table as Arrow record batches (memory does not grow with it)."""

    @abstractmethod
    def table_exists(self, table: str) -> bool: ...

    @abstractmethod
    def tables(self) -> list[str]:
        """The names of the tables in the warehouse (dataset)."""

    def row_count(self, table: str) -> int:
        """How many rows `table` holds."""
        (row,) = self.fetch_query_file("engine/row_count", target=table)
        return int(row["n"])  # type: ignore[call-overload]

    def leftover_staging(self) -> list[str]:
        """`<table>__incoming` tables a killed load left behind (only a writer holding the
        lock may drop them: then no load is running)."""
        return [t for t in self.tables() if t.endswith(STAGING_SUFFIX)]

    def estimate(
        self, statement: str, params: Params | None = None, *, name: str = ""
    ) -> str | None:
        """What running `statement` (of the queries/ file `name`) would cost, where the
        engine can say (dry run)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def _storage_schema(self, table: str, schema: pa.Schema) -> tuple[pa.Schema, list[str]]:
        """The schema `load` writes `table` with (the contract's, unless the engine keeps
        a column of an existing table otherwise), and notes saying where it differs.
        Raises before anything is written when the table cannot take the rows."""
        return schema, []

    def json_text_columns(self, tables: Mapping[str, Mapping[str, str]]) -> dict[str, list[str]]:
        """Of `tables`' JSON columns (contract types), those this warehouse holds as text
        that its JSON functions do not read as JSON (CONTRACT §7: a STRING holding JSON)."""
        return {}

    def qualifier(self) -> tuple[str | None, str | None]:
        """(catalog, db) to prefix table names with; none for an embedded engine."""
        return (None, None)

    # --- running SQL: every statement is traced ---------------------------------------
    def execute(self, statement: str, params: Params | None = None, *, name: str = "") -> None:
        trace.statement(self.kind, statement, params, name=name or None)
        self._execute(statement, params)

    def fetch(
        self, statement: str, params: Params | None = None, *, name: str = ""
    ) -> list[dict[str, object]]:
        trace.statement(self.kind, statement, params, name=name or None)
        return self._fetch(statement, params)

    def statements(self, query_name: str, **tables: str) -> tuple[sql.Statement, ...]:
        """`queries/<query_name>.sql` rendered for this engine; `tables` fills placeholders."""
        from . import sql

        catalog, db = self.qualifier()
        return sql.render(
            query_name,
            self.dialect,
            catalog,
            db,
            tables=tuple(tables.items()),
            storage_options=self.capabilities.storage_options,
        )

    def render_sources(
        self,
        template: str,
        sources: Sequence[tuple[Any, Mapping[str, str]]],
        name: str,
        json_text: Mapping[str, Sequence[str]] | None = None,
    ) -> sql.Statement:
        """`sql.render_sources` for this engine: the template's SELECT once per source."""
        from . import sql

        catalog, db = self.qualifier()
        return sql.render_sources(
            template,
            sources,
            name,
            self.dialect,
            catalog,
            db,
            json_text=json_text,
            storage_options=self.capabilities.storage_options,
        )

    def run(self, statement: sql.Statement, params: Params | None = None) -> None:
        self.execute(statement.sql, statement.bind(params), name=statement.name)

    def run_query_file(self, query_name: str, params: Params | None = None, **tables: str):
        """Run every statement of `queries/<query_name>.sql`."""
        for statement in self.statements(query_name, **tables):
            self.run(statement, params)

    def fetch_query_file(
        self, query_name: str, params: Params | None = None, **tables: str
    ) -> list[dict[str, object]]:
        (statement,) = self.statements(query_name, **tables)
        return self.fetch(statement.sql, statement.bind(params), name=statement.name)

    # --- stage, then swap ---------------------------------------------------------------
    def replace_tables(
        self, tables: Mapping[str, tuple[pa.Schema, Iterable[pa.RecordBatch]]]
    ) -> list[str]:
        """Replace each named table with the given rows, all or nothing; returns notes on
        columns written otherwise than the schema says (`_storage_schema`).

        Every table's schema is settled before anything is written. Every table is
        written to `<name>__incoming` first (rows stream in batch by batch); only once
        all have loaded does the engine swap them in at once (`_swap`). A failure
        anywhere leaves every table as it was; the staging tables are dropped either
        way, best effort, never hiding the error being handled."""
        notes: list[str] = []
        schemas: dict[str, pa.Schema] = {}
        for name, (schema, _) in tables.items():
            schemas[name], said = self._storage_schema(name, schema)
            notes += said
        staged: list[str] = []
        try:
            for name, (_, batches) in tables.items():
                staged.append(name)
                self._load_staging(staging_name(name), schemas[name], batches)
            self._swap(staged)
        finally:
            for name in staged:
                self.drop_quietly(staging_name(name))
        return notes

    def keep_table(self, source: str, target: str) -> None:
        """Make `target` hold what `source` holds now, replacing it (a rename where the
        engine renames for free; `source` may be gone afterwards)."""
        self.run_query_file(f"engine/{self.kind}/keep_table", source=source, target=target)

    def drop_quietly(self, table: str) -> None:
        """Drop `table` if it exists; a failure is logged, never raised (cleanup only)."""
        try:
            self.run_query_file("engine/drop_table", target=table)
        except Exception as e:  # noqa: BLE001 - the first error is the one to report
            log.warning("could not drop %s (%s); the next load replaces it", table, e)

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""The one place SQL is read from `queries/` and rendered for an engine.

Projection queries are GoogleSQL (BigQuery) files. For BigQuery they run as written, with
table names qualified as `project.dataset.table`; for DuckDB sqlglot transpiles them.
Parameters stay parameters (`@name` in the files) and are bound by the adapter.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlglot
from sqlglot import exp

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
SOURCE_DIALECT = "bigquery"

log = logging.getLogger("contact_events.sql")


@cache
def read_query(name: str) -> str:
    """Text of `queries/<name>.sql` (name may contain a sub-folder, e.g. `sources/messages`)."""
    return (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _qualify(tree: exp.Expression, catalog: str | None, db: str | None) -> exp.Expression:
    """Prefix every real table (not a CTE) with `catalog.db`."""
    if not db:
        return tree
    cte_names = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if table.name in cte_names or table.args.get("db") or isinstance(table.this, exp.Func):
            continue
        table.set("db", exp.to_identifier(db, quoted=True))
        if catalog:
            table.set("catalog", exp.to_identifier(catalog, quoted=True))
    return tree


def _shim(tree: exp.Expression, dialect: str) -> exp.Expression:
    """Documented dialect shims, applied after transpilation concerns sqlglot can't know.

    - PARTITION BY / CLUSTER BY are BigQuery storage options; other engines drop them.
    """
    if dialect != SOURCE_DIALECT:
        for node in list(tree.find_all(exp.PartitionedByProperty, exp.ClusterProperty)):
            node.pop()
    return tree


@dataclass(frozen=True)
class Statement:
    """One rendered statement and the names of the `@parameters` it binds."""

    sql: str
    params: frozenset[str]

    def bind(self, params: Mapping[str, object] | None) -> dict[str, object]:
        params = params or {}
        missing = self.params - params.keys()
        if missing:
            raise KeyError(f"statement needs parameters {sorted(missing)}")
        return {k: params[k] for k in self.params}


@cache
def render(
    name: str, dialect: str, catalog: str | None = None, db: str | None = None
) -> tuple[Statement, ...]:
    """The statements of `queries/<name>.sql`, ready to run on `dialect`."""
    statements = []
    for tree in sqlglot.parse(read_query(name), read=SOURCE_DIALECT):
        if tree is None:
            continue
        tree = _shim(_qualify(tree, catalog, db), dialect)
        names = frozenset(p.name for p in tree.find_all(exp.Parameter))
        # Comments stay in the files; executed SQL carries none (the BigQuery emulator
        # mistakes an `@name` inside a comment for a parameter).
        text = tree.sql(dialect=dialect, pretty=True, comments=False)
        statements.append(Statement(text, names))
    return tuple(statements)


def split_statements(script: str) -> list[str]:
    """Split a SQLite script into complete statements (comments stay with the next one)."""
    import sqlite3

    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip(" \n;").replace("\n", "").strip() and not _only_comments(current):
                statements.append(current.strip())
            current = ""
    return statements


def _only_comments(text: str) -> bool:
    return all(not ln.strip() or ln.strip().startswith("--") for ln in text.splitlines())

"""The one place SQL is rendered for an engine: the files of `queries/` (read by
builder/core/queries.py) and a profile's source folder.

Projection queries are GoogleSQL (BigQuery) files. For BigQuery they run as written, with
table names qualified as `project.dataset.table`; for DuckDB sqlglot transpiles them.
Parameters stay parameters (`@name` in the files) and are bound by the adapter. Python
never assembles SQL beyond three things done here on the parsed tree: a placeholder table
name swapped for a real one (`tables=`); a profile source's SELECT put where the staging
template says `source_rows`; and, when several sources are staged in one statement, each
copy of the template's SELECT given its source's declared `@source_system` and
`@event_type` as string literals (both `render_sources`).

Documented shims, applied after parsing:
- PARTITION BY / CLUSTER BY are BigQuery storage options; an engine without them
  (`Capabilities.storage_options`) drops them. A CREATE TABLE ... AS SELECT clustered on
  BigQuery is written in its CLUSTER BY order there instead (DuckDB keeps the order rows
  are written in: the same co-location). The GoogleSQL itself never orders what it
  writes: BigQuery refuses an ORDER BY into a partitioned or clustered table.
- Executed SQL carries no comments (the BigQuery emulator mistakes an `@name` inside a
  comment for a parameter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import sqlglot
from sqlglot import exp

from ..core.queries import read_query

SOURCE_DIALECT = "bigquery"
# The staging template's stand-in for a profile source's SELECT (resolve/stage_*.sql).
SOURCE_PLACEHOLDER = "source_rows"

Tables = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Statement:
    """One rendered statement, the names of the `@parameters` it binds, and its file."""

    sql: str
    params: frozenset[str]
    name: str = ""

    def bind(self, params: Mapping[str, object] | None) -> dict[str, object]:
        params = params or {}
        missing = self.params - params.keys()
        if missing:
            raise KeyError(f"{self.name or 'statement'} needs parameters {sorted(missing)}")
        return {k: params[k] for k in self.params}


def _rename(tree: exp.Expression, tables: Mapping[str, str]) -> exp.Expression:
    """Swap placeholder table names (`incoming`, `target`, ...) for real ones."""
    if tables:
        for table in tree.find_all(exp.Table):
            if not table.args.get("db") and table.name in tables:
                table.set("this", exp.to_identifier(tables[table.name]))
    return tree


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


def _shim(tree: exp.Expression, storage_options: bool) -> exp.Expression:
    if not storage_options:
        cluster = tree.find(exp.ClusterProperty)
        query = tree.expression if isinstance(tree, exp.Create) else None
        if cluster is not None and isinstance(query, exp.Query) and not query.args.get("order"):
            query.order_by(*(key.copy() for key in cluster.expressions), copy=False)
        for node in list(tree.find_all(exp.PartitionedByProperty, exp.ClusterProperty)):
            node.pop()
    return tree


def _parameters(tree: exp.Expression) -> frozenset[str]:
    """Named parameters: `@name` in GoogleSQL, `$name` in an engine file of DuckDB's."""
    named = [p.name for p in tree.find_all(exp.Parameter)]
    named += [p.name for p in tree.find_all(exp.Placeholder) if p.name and p.name != "?"]
    return frozenset(named)


def _statement(tree: exp.Expression, dialect: str, name: str) -> Statement:
    names = _parameters(tree)
    return Statement(tree.sql(dialect=dialect, pretty=True, comments=False), names, name)


def parse(text: str, read: str = SOURCE_DIALECT) -> list[exp.Expression]:
    return [tree for tree in sqlglot.parse(text, read=read) if tree is not None]


def dialect_of(name: str) -> str:
    """The dialect a file is written in: GoogleSQL, except an adapter's own files under
    `queries/engine/<engine>/`, which are written in that engine's SQL."""
    parts = name.split("/")
    return parts[1] if parts[0] == "engine" and len(parts) > 2 else SOURCE_DIALECT


@cache
def render(
    name: str,
    dialect: str,
    catalog: str | None = None,
    db: str | None = None,
    *,
    tables: Tables = (),
    storage_options: bool = False,
) -> tuple[Statement, ...]:
    """The statements of `queries/<name>.sql`, ready to run on `dialect`.

    `tables`: (placeholder, real name) pairs, e.g. (("target", "contacts"),);
    `storage_options`: keep PARTITION BY / CLUSTER BY (the engine has them)."""
    out = []
    for tree in parse(read_query(name), dialect_of(name)):
        tree = _shim(_qualify(_rename(tree, dict(tables)), catalog, db), storage_options)
        out.append(_statement(tree, dialect, name))
    return tuple(out)


def _parse_json(query: exp.Expression, columns: Mapping[str, Sequence[str]]) -> exp.Expression:
    """Shim: a JSON column the warehouse holds as STRING (CONTRACT §7 allows both) is read
    through `(SELECT * REPLACE (PARSE_JSON(col) AS col) FROM table)`, so the source's JSON
    functions see JSON either way."""
    if not columns:
        return query
    ctes = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    for table in list(query.find_all(exp.Table)):
        names = columns.get(table.name)
        if not names or table.name in ctes or table.args.get("db"):
            continue
        replace = [exp.alias_(exp.func("PARSE_JSON", exp.column(c)), c) for c in names]
        inner = exp.select(exp.Star(replace=replace)).from_(exp.to_table(table.name))
        alias = table.alias_or_name
        table.replace(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    return query


def render_sources(
    template: str,
    sources: Sequence[tuple[exp.Query, Mapping[str, str]]],
    name: str,
    dialect: str,
    catalog: str | None = None,
    db: str | None = None,
    *,
    json_text: Mapping[str, Sequence[str]] | None = None,
    storage_options: bool = False,
) -> Statement:
    """`queries/<template>.sql` (a SELECT, or CREATE TABLE ... AS one, that reads
    `source_rows AS s`) with its SELECT repeated once per source and the copies UNION
    ALL'd: in each, the source's parsed SELECT stands where `source_rows` does, and the
    source's declarations (`{"source_system": ...}`) where the template's @parameters of
    those names do, as string literals. One statement: the engine stages every source
    in one pass. The source's own tables are qualified like every other table; the
    tables the template writes are too. `json_text`: table -> JSON columns held as
    STRING there."""
    (tree,) = parse(read_query(template))
    tree = _qualify(tree, catalog, db)
    select = tree.expression if isinstance(tree, exp.Create) else tree
    branches = []
    for query, declared in sources:
        branch = select.copy()
        for parameter in list(branch.find_all(exp.Parameter)):
            if parameter.name in declared:
                parameter.replace(exp.Literal.string(declared[parameter.name]))
        placeholders = [t for t in branch.find_all(exp.Table) if t.name == SOURCE_PLACEHOLDER]
        if len(placeholders) != 1:
            raise ValueError(f"{template}.sql must read `{SOURCE_PLACEHOLDER}` exactly once")
        (placeholder,) = placeholders
        source = _qualify(_parse_json(query.copy(), json_text or {}), catalog, db)
        placeholder.replace(exp.Subquery(this=source, alias=placeholder.args.get("alias")))
        branches.append(branch)
    union = branches[0]
    for branch in branches[1:]:
        union = exp.union(union, branch, distinct=False)
    if isinstance(tree, exp.Create):
        tree.set("expression", union)
    else:
        tree = union
    return _statement(_shim(tree, storage_options), dialect, name)


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


def sqlite_statements(name: str) -> list[str]:
    """The statements of a SQLite file under `queries/` (mirror/, jobs/), one by one."""
    return split_statements(read_query(name))


def _only_comments(text: str) -> bool:
    return all(not ln.strip() or ln.strip().startswith("--") for ln in text.splitlines())


def select_columns(table: str, columns: Sequence[str] | None, dialect: str) -> str:
    """`SELECT <columns> FROM <table>`: a whole-table read, identifiers quoted for `dialect`.

    With `insert_rows`, the only SQL assembled from names, for the bulk copies whose
    tables and columns come from `builder.core.contract`."""
    select = exp.select(*(exp.column(c, quoted=True) for c in columns) if columns else "*")
    return select.from_(exp.to_table(table, quoted=True)).sql(dialect=dialect)


def insert_rows(table: str, columns: Sequence[str]) -> str:
    """SQLite `INSERT INTO <table> (<columns>) VALUES (?, ...)` for executemany."""
    names = ", ".join(f'"{c}"' for c in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"

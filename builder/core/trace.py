"""The one execute hook: every SQL statement the builder runs, on every engine, passes here.

sqlite-utils' `tracer` is the model: the warehouse adapters (DuckDB, BigQuery) call
`statement()` before each statement they send, and the builder's SQLite connections
(`sqlite()`) do the same for the mirror. `contact-events --show-sql` switches the
`contact_events.sql` logger to DEBUG and prints each statement to stderr as it runs.

Bound values are never printed: only the statement text and the names of its
parameters (values can be emails and names), and a bulk insert is one line with its row
count, not one line per row.

A warehouse operation that is no SQL statement (a BigQuery load, copy, create or delete
job) is traced with `job()`: one comment line, and, for watchers, the table it writes and
the columns it gives that table. `watch()` hands every traced statement and job, bound
values included, to a callback: the GoogleSQL analyzer gate of the test suite
(tests/googlesql/) listens there, so it checks exactly what the adapters send.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("contact_events.sql")


@dataclass(frozen=True)
class Job:
    """A warehouse operation that is no SQL statement: `kind` (`load`, `copy`, `create`,
    `delete`) writes or removes `table`; a copy reads `source`; `columns` (name, type in
    the engine's words, e.g. `ARRAY<STRING>`) is the schema a load or create gives it."""

    kind: str
    table: str
    source: str | None = None
    columns: tuple[tuple[str, str], ...] = ()
    replace: bool = True  # a load that appends keeps the table's schema


@dataclass(frozen=True)
class Traced:
    """One traced statement (or job), as a watcher sees it."""

    engine: str
    sql: str
    params: Mapping[str, object] | Sequence[object] | None = None
    name: str | None = None
    rows: int | None = None
    job: Job | None = None


_watchers: list[Callable[[Traced], None]] = []


@contextmanager
def watch(callback: Callable[[Traced], None]) -> Iterator[None]:
    """Call `callback` with every statement and job traced inside the block."""
    _watchers.append(callback)
    try:
        yield
    finally:
        _watchers.remove(callback)


def _notify(traced: Traced) -> None:
    for callback in list(_watchers):
        callback(traced)


def enabled() -> bool:
    return log.isEnabledFor(logging.DEBUG)


def statement(
    engine: str,
    sql: str,
    params: Mapping[str, object] | Sequence[object] | None = None,
    *,
    name: str | None = None,
    rows: int | None = None,
) -> None:
    """Record one statement about to run on `engine` (`name`: its queries/ file)."""
    if _watchers:
        _notify(Traced(engine, sql, params, name, rows))
    if not enabled():
        return
    where = f"{engine}: {name}" if name else engine
    extras = []
    if isinstance(params, Mapping) and params:
        extras.append("params " + ", ".join(sorted(params)))
    if rows is not None:
        extras.append(f"{rows:,} rows")
    suffix = f" ({'; '.join(extras)})" if extras else ""
    log.debug("-- %s%s\n%s;", where, suffix, sql.strip().rstrip(";"))


def job(engine: str, description: str, job: Job) -> None:
    """Record a warehouse job about to run (`description`: what --show-sql prints)."""
    if _watchers:
        _notify(Traced(engine, f"-- {description}", job=job))
    if enabled():
        log.debug("-- %s: %s", engine, description)


class TracedSQLite:
    """A sqlite3 connection whose every statement goes through `statement()` first.

    Only the methods the builder uses; `con` is the connection underneath."""

    def __init__(self, con: sqlite3.Connection, engine: str = "sqlite") -> None:
        self.con = con
        self.engine = engine

    def execute(self, sql: str, params: Any = (), *, name: str | None = None) -> sqlite3.Cursor:
        statement(self.engine, sql, params, name=name)
        return self.con.execute(sql, params)

    def executemany(
        self,
        sql: str,
        rows: Iterable[Sequence[object]],
        *,
        count: int | None = None,
        name: str | None = None,
    ) -> None:
        """Run `sql` once per row (`count` of them, if known): traced once, not per row."""
        statement(self.engine, sql, name=name, rows=count)
        self.con.executemany(sql, rows)

    def script(self, statements: Iterable[str], *, name: str | None = None) -> None:
        """Run complete statements one by one (`sql.split_statements` of a file)."""
        for sql in statements:
            self.execute(sql, name=name)

    def close(self) -> None:
        self.con.close()

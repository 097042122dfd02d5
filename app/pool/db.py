"""One read-only connection to the SQLite mirror, Datasette-style, and the build it holds.

- Connections are `file:...?mode=ro` URIs (`builder.mirror.store.connect_read_only`): the API
  can never write the mirror. They are owned by the pool (`app.pool.mirror`), never by a thread.
- A request's queries run in one read transaction (`begin()` ... `end()`). `begin()` also
  names the build the snapshot holds: the latest `ledger_builds` row, read again only when
  `PRAGMA data_version` says another connection committed since (an in-place
  `sync --incremental`); a mirror replaced by a new file gets new connections. So the
  X-Ledger-* headers always name the build the answer came from, at the cost of one
  pragma per request.
- Rows come back as tuples. A query that can run long (`time_limited`) runs under the
  configured time limit (`set_progress_handler` aborts it; 504); every query under a row
  cap (`fetchmany`); a page's query also under a size budget (`budget`: it stops reading
  once its rows' `item` texts pass it, so a page of huge rows is never held whole).
- SQL comes only from `queries/api/<name>.sql` (the pages' own from `queries/ui/`); values
  are bound as `:name` parameters.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Mapping
from operator import itemgetter
from pathlib import Path
from typing import Any

from contact_events.builder.core.queries import read_query
from contact_events.builder.mirror.build_row import BuildRow, DamagedBuildRow
from contact_events.builder.mirror.store import connect_read_only

from ..core.errors import ApiError
from ..core.timestamps import to_rfc3339

log = logging.getLogger("contact_events.api")

FileKey = tuple[int, int, int, int]

# Progress handler granularity (SQLite VM instructions between deadline checks).
PROGRESS_STEPS = 50_000
# Rows read at a time under a size budget: at most this many rows beyond the budget are
# ever held (a page of 1,000 rows of 1 MB each holds ~1 MiB + BUDGET_BATCH MB, not 1 GB).
BUDGET_BATCH = 16

NO_MIRROR = (
    "the SQLite mirror does not exist yet: run `contact-events run` "
    "(or `build` then `sync`), or POST /rebuild"
)
BAD_MIRROR = "the SQLite mirror cannot be read; rebuild it (`contact-events run` or POST /rebuild)"


class MirrorUnavailable(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(503, "mirror_unavailable", message, headers={"Retry-After": "30"})


class QueryTimeout(ApiError):
    def __init__(self, limit_ms: int) -> None:
        super().__init__(
            504,
            "query_timeout",
            f"query took too long (limit {limit_ms} ms); narrow it with filters, a time "
            "window or a smaller limit",
        )


class Build:
    """The mirror's latest build (builder.mirror.build_row.BuildRow) and what follows from it for
    the API: the event types it accepts and counts, its identity and its headers."""

    __slots__ = (
        "row",
        "build_id",
        "synced_at",
        "identity",
        "event_types",
        "zero_counts",
        "_headers",
    )

    def __init__(self, row: BuildRow) -> None:
        self.row = row
        self.build_id = row.build_id
        self.synced_at = row.synced_at
        # What a snapshot holds: a new sync (full or in place) always adds a row.
        self.identity = f"{row.build_id}/{row.synced_at}"
        self.event_types = row.event_types
        # Bound as :zero_counts: the set as a JSON object of zeros, in display order.
        self.zero_counts = json.dumps(dict.fromkeys(self.event_types, 0))
        # The X-Ledger-* headers, encoded once: a Build is kept per data_version.
        built_at = to_rfc3339(row.built_at) or row.built_at
        self._headers = (
            (b"x-ledger-built-at", built_at.encode("latin-1", "replace")),
            (b"x-ledger-build-id", row.build_id.encode("latin-1", "replace")),
        )

    @property
    def profile(self) -> str:
        return self.row.profile

    def headers(self) -> tuple[tuple[bytes, bytes], ...]:
        """The X-Ledger-Built-At / X-Ledger-Build-Id headers (name, value), as bytes."""
        return self._headers


class Reader:
    """One read-only connection to one mirror file (see the module docstring)."""

    __slots__ = ("con", "key", "time_limit_ms", "broken", "build", "_version", "_columns")

    def __init__(self, path: Path, key: FileKey, time_limit_ms: int) -> None:
        self.key = key
        self.time_limit_ms = time_limit_ms
        self.broken = False
        self.build: Build | None = None
        self._version: int | None = None
        self._columns: dict[str, tuple[str, ...]] = {}
        try:
            # Autocommit: begin()/end() open and close read transactions explicitly. The
            # busy timeout covers the instant an in-place `sync --incremental` commits.
            self.con = connect_read_only(
                path, check_same_thread=False, isolation_level=None, timeout=5.0
            )
            self.con.executescript(read_query("api/views"))  # TEMP: the file is not written
        except sqlite3.Error as e:
            log.warning("cannot open the mirror: %s", e)
            raise MirrorUnavailable(BAD_MIRROR) from None

    def close(self) -> None:
        try:
            self.con.close()
        except sqlite3.Error:  # pragma: no cover - closing never matters
            pass

    def begin(self) -> Build:
        """Open a read transaction; the build it holds. Pair with end()."""
        try:
            self.con.execute("BEGIN")
            version = self.con.execute("PRAGMA data_version").fetchone()[0]
            if version != self._version or self.build is None:
                self.build = None
                _, rows = self.rows("latest_build", {}, 1)
                if not rows:
                    raise MirrorUnavailable(BAD_MIRROR + " (it records no build)")
                names = self._columns["latest_build"]
                self.build = Build(BuildRow.from_row(dict(zip(names, rows[0], strict=True))))
                self._version = version
        except ApiError:
            self.end()
            raise
        except DamagedBuildRow as e:
            self.end()
            log.warning("cannot read the mirror's build: %s", e)
            raise MirrorUnavailable(f"{BAD_MIRROR} ({e})") from None
        except sqlite3.Error as e:
            self.broken = True
            self.end()
            log.warning("cannot read the mirror: %s", e)
            raise MirrorUnavailable(BAD_MIRROR) from None
        return self.build

    def end(self) -> None:
        try:
            self.con.execute("COMMIT")
        except sqlite3.Error:  # not in a transaction, or the connection is gone
            pass

    def rows(
        self,
        name: str,
        params: Mapping[str, Any],
        cap: int,
        *,
        time_limited: bool = False,
        budget: int | None = None,
        folder: str = "api",
    ) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        """(column names, rows as tuples) of `queries/<folder>/<name>.sql` (the API's, or
        the pages' own `ui`), at most `cap` rows.

        `time_limited`: the query can run long, so a progress handler stops it at the
        configured time limit (504). Index probes of one contact do without.
        `budget`: stop reading once the rows' `item` column holds more than this many
        characters (the caller ends its page there, app/canned/handler.py).
        """
        sql = read_query(f"{folder}/{name}")
        if folder != "api":
            name = f"{folder}/{name}"  # as the columns' cache knows it
        if time_limited:
            deadline = time.monotonic() + self.time_limit_ms / 1000

            def over_time() -> int:
                return 1 if time.monotonic() > deadline else 0

            self.con.set_progress_handler(over_time, PROGRESS_STEPS)
        try:
            cursor = self.con.execute(sql, params)
            try:
                columns = self._columns.get(name)
                if columns is None:
                    columns = tuple(d[0] for d in cursor.description)
                    self._columns[name] = columns
                if budget is None or "item" not in columns:
                    rows = cursor.fetchmany(cap)
                else:
                    rows = _fetch_within(cursor, cap, columns.index("item"), budget)
            finally:
                cursor.close()
        except sqlite3.OperationalError as e:
            if "interrupted" in str(e):
                log.warning("query %s interrupted after %d ms", name, self.time_limit_ms)
                raise QueryTimeout(self.time_limit_ms) from None
            self.broken = True
            log.warning("query %s failed on the mirror: %s", name, e)
            raise MirrorUnavailable(BAD_MIRROR) from None
        except sqlite3.DatabaseError as e:
            self.broken = True
            log.warning("query %s failed on the mirror: %s", name, e)
            raise MirrorUnavailable(BAD_MIRROR) from None
        finally:
            if time_limited:
                self.con.set_progress_handler(None, 0)
        return columns, rows

    def dicts(
        self, name: str, params: Mapping[str, Any], cap: int, folder: str = "api"
    ) -> list[dict[str, Any]]:
        """Rows as dicts, for the few places that want names (status counts, the pages)."""
        columns, rows = self.rows(name, params, cap, time_limited=True, folder=folder)
        return [dict(zip(columns, row, strict=True)) for row in rows]


def _fetch_within(cursor: sqlite3.Cursor, cap: int, item: int, budget: int) -> list[Any]:
    """Up to `cap` rows, read BUDGET_BATCH at a time until their `item` texts together
    pass `budget` characters."""
    rows: list[Any] = []
    size = 0
    while len(rows) < cap:
        batch = cursor.fetchmany(min(BUDGET_BATCH, cap - len(rows)))
        if not batch:
            break
        rows += batch
        size += sum(map(len, map(itemgetter(item), batch)))
        if size > budget:
            break
    return rows

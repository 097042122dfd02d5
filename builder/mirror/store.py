"""The SQLite mirror's files, and the one way to open the mirror read-only.

Everything the product keeps beside the mirror (`CONTACT_EVENTS_MIRROR_PATH`) is named
here and nowhere else:

    <mirror>                              the SQLite mirror (CONTRACT §4)
    <mirror>.lock                         the writers' lock (builder.stages.lock)
    <mirror>.jobs.db                      the API's rebuild jobs (app.jobs.manager)
    <mirror>.validation-failed-<UTC>.json reports of failed validations (owner-only)
    .<mirror>.tmp-<pid>-<id>              a sync's new file, before it is swapped in

and so is the mirror's one timestamp text, `YYYY-MM-DD HH:MM:SS.ffffff` in UTC
(`contract.MIRROR_TIMESTAMP_FORMAT`), which SQLite's own `DATETIME()` compares against.
Every one of these files is owner-only (builder/core/files.py).

Whether a mirror file can be trusted: `verify_mirror(path)` runs SQLite's
`PRAGMA quick_check` (every page and record well-formed, indexes the right size) and,
with `checksum=True`, recomputes the checksum that `sync` recorded in the file's latest
`ledger_builds` row (`mirror_checksum`: SHA-256 of the pages of the three data tables and
their indexes), so a damaged page, a truncated file or a table edited by hand is found.
At 1M ledger rows quick_check takes ~0.5 s and the checksum ~1 s (bench/README.md).
`sync --incremental` verifies the mirror (checksum included) before patching it; the API
verifies the mirror it opens, for /health and /status.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..core.contract import MIRROR_TIMESTAMP_FORMAT
from ..core.queries import read_query
from ..core.trace import TracedSQLite
from .build_row import BuildRow, DamagedBuildRow

log = logging.getLogger("contact_events.mirror")

# Arrow's strftime prints `%S` with the fraction for microsecond timestamps, so the
# mirror's form is the contract's without its `.%f`.
ARROW_TIMESTAMP_FORMAT = MIRROR_TIMESTAMP_FORMAT.removesuffix(".%f")
assert ARROW_TIMESTAMP_FORMAT != MIRROR_TIMESTAMP_FORMAT

FAILED_REPORT_INFIX = ".validation-failed-"
TEMP_INFIX = ".tmp-"


@dataclass(frozen=True)
class MirrorFiles:
    """The mirror at `path` and the files kept beside it."""

    path: Path

    @classmethod
    def at(cls, path: Path | str) -> MirrorFiles:
        return cls(Path(path))

    @property
    def lock(self) -> Path:
        return self._beside(".lock")

    @property
    def jobs_db(self) -> Path:
        return self._beside(".jobs.db")

    @property
    def session_key(self) -> Path:
        """The key the pages (/ui) sign their session cookies with (app/http/ui/session.py)."""
        return self._beside(".session-key")

    def new_temp(self) -> Path:
        """A fresh name for a sync's new file: hidden, beside the mirror, owner pid first."""
        name = f".{self.path.name}{TEMP_INFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        return self.path.with_name(name)

    def temps(self) -> list[Path]:
        """Every sync temp file beside the mirror (a killed sync's included)."""
        return sorted(self.path.parent.glob(f".{self.path.name}{TEMP_INFIX}*"))

    def new_failed_report(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return self._beside(f"{FAILED_REPORT_INFIX}{stamp}.json")

    def failed_reports(self) -> list[Path]:
        """Failed-validation reports, oldest first (their names sort by time)."""
        return sorted(self.path.parent.glob(f"{self.path.name}{FAILED_REPORT_INFIX}*.json"))

    def _beside(self, suffix: str) -> Path:
        return self.path.with_name(f"{self.path.name}{suffix}")


def read_only_uri(path: Path | str) -> str:
    """`file:` URI opening the mirror read-only (`mode=ro`): the path percent-encoded, so
    a `?`, `#` or `%` in a folder name cannot turn into URI syntax."""
    return Path(path).resolve().as_uri() + "?mode=ro"


def connect_read_only(path: Path | str, **kwargs: object) -> sqlite3.Connection:
    """The one way to open a mirror file read-only (API, sync history, validation)."""
    return sqlite3.connect(read_only_uri(path), uri=True, **kwargs)  # type: ignore[arg-type]


def mirror_timestamp(value: datetime) -> str:
    """An instant in the mirror's text form (UTC; a naive value is taken as UTC).

    Formatted by hand rather than with `strftime(MIRROR_TIMESTAMP_FORMAT)`, whose `%Y`
    does not zero-pad years before 1000; the result has that format's shape exactly.
    """
    v = value.astimezone(UTC) if value.tzinfo else value
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
    )


# --- verification -------------------------------------------------------------------------

# Two ways to checksum the data tables (the recorded value names its way):
#   sha256-pages: the file's pages that hold the three data tables and their indexes, in
#                 page order (their page numbers from SQLite's dbstat table): C speed,
#                 and it covers the indexes too. A per-file checksum (layout included).
#   sha256-rows:  every row in rowid order, as the Python repr of its tuple, one a line:
#                 for a SQLite built without dbstat (~3x the time at 1M rows).
PAGES, ROWS = "sha256-pages", "sha256-rows"
CHECKSUM_TABLES = ("contact_events", "contact_events_rejects", "contacts")
CHECKSUM_BATCH = 10_000


def has_dbstat(con: sqlite3.Connection) -> bool:
    try:
        con.execute("SELECT pageno FROM dbstat LIMIT 1").fetchall()
    except sqlite3.OperationalError:
        return False
    return True


def mirror_checksum(con: sqlite3.Connection, algorithm: str | None = None) -> str:
    """`<algorithm>:<hex>` of the mirror's data (see PAGES / ROWS; default PAGES where
    SQLite has dbstat). Reads the file itself for PAGES: call it on committed data."""
    algorithm = algorithm or (PAGES if has_dbstat(con) else ROWS)
    digest = hashlib.sha256()
    if algorithm == PAGES:
        _hash_pages(con, digest)
    elif algorithm == ROWS:
        _hash_rows(con, digest)
    else:
        raise ValueError(f"unknown checksum algorithm {algorithm!r}")
    return f"{algorithm}:{digest.hexdigest()}"


def _hash_rows(con: sqlite3.Connection, digest: hashlib._Hash) -> None:
    for table in CHECKSUM_TABLES:
        digest.update(f"{table}\n".encode())
        cur = con.execute(f"SELECT * FROM {table} ORDER BY rowid")  # noqa: S608
        while rows := cur.fetchmany(CHECKSUM_BATCH):
            text = "".join(f"{row!r}\n" for row in rows)
            digest.update(text.encode("utf-8", "surrogatepass"))


def _hash_pages(con: sqlite3.Connection, digest: hashlib._Hash) -> None:
    names = [
        r[0]
        for r in con.execute(
            "SELECT name FROM sqlite_schema WHERE tbl_name IN (?, ?, ?) ORDER BY name",
            CHECKSUM_TABLES,
        )
    ]
    marks = ", ".join("?" for _ in names)
    pages = [
        r[0]
        for r in con.execute(
            f"SELECT pageno FROM dbstat WHERE name IN ({marks}) ORDER BY pageno",  # noqa: S608
            names,
        )
    ]
    (size,) = con.execute("PRAGMA page_size").fetchone()
    (file,) = [r[2] for r in con.execute("PRAGMA database_list") if r[1] == "main"]
    with open(file, "rb") as fh:
        run_start = previous = None
        for page in [*pages, None]:  # runs of consecutive pages: one read each
            if page is not None and previous is not None and page == previous + 1:
                previous = page
                continue
            if run_start is not None:
                fh.seek((run_start - 1) * size)
                length = (previous - run_start + 1) * size
                while length:
                    chunk = fh.read(min(length, 1 << 20))
                    if not chunk:
                        raise sqlite3.DatabaseError(f"{file} is shorter than its pages")
                    digest.update(chunk)
                    length -= len(chunk)
            run_start = previous = page


@dataclass(frozen=True)
class Verification:
    """What `verify_mirror` found. `ok`: the file can be served; `problem`: why not, said
    of the file without naming it (`f"{path} {problem}"` reads as a sentence)."""

    path: str
    ok: bool
    problem: str | None = None
    build_id: str | None = None
    quick_check: str | None = None  # "ok", or SQLite's first finding
    checksum: str | None = None  # recomputed (None when not asked for or not reached)
    recorded_checksum: str | None = None  # in the build row (None: it records none)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def verify_mirror(path: Path | str, *, checksum: bool = False) -> Verification:
    """Check the mirror file at `path`: it opens read-only, `PRAGMA quick_check` finds
    nothing, it has a build row, and (with `checksum`) its content checksum is the one
    its latest `ledger_builds` row recorded. Never raises for a bad file: the answer says
    what is wrong. A mirror whose build row records no checksum verifies on
    quick_check alone (`recorded_checksum` None)."""
    started = time.perf_counter()
    path = Path(path)
    found: dict[str, object] = {"path": str(path)}

    def result(problem: str | None) -> Verification:
        return Verification(
            ok=problem is None,
            problem=problem,
            seconds=round(time.perf_counter() - started, 3),
            **found,  # type: ignore[arg-type]
        )

    if not path.is_file():
        return result("does not exist")
    try:
        con = connect_read_only(path)
    except sqlite3.Error as e:
        return result(f"cannot be opened: {e}")
    try:
        rows = con.execute("PRAGMA quick_check").fetchall()
        found["quick_check"] = rows[0][0] if rows else "no answer"
        if [r[0] for r in rows] != ["ok"]:
            shown = "; ".join(str(r[0]) for r in rows[:3])
            more = f" (and {len(rows) - 3} more)" if len(rows) > 3 else ""
            return result(f"is damaged: quick_check: {shown}{more}")
        columns = {r[0] for r in con.execute(read_query("mirror/build_columns"))}
        if not columns:
            return result("has no ledger_builds table: not a mirror")
        cursor = con.execute(read_query("api/latest_build"))
        names = [d[0] for d in cursor.description]
        latest = cursor.fetchone()
        if latest is None:
            return result("has no build row")
        row = dict(zip(names, latest, strict=True))
        found["build_id"], found["recorded_checksum"] = row["build_id"], row.get("checksum")
        recorded = found["recorded_checksum"]
        algorithm = str(recorded).split(":", 1)[0] if recorded else None
        if checksum and algorithm == PAGES and not has_dbstat(con):
            found["checksum"] = None  # this SQLite cannot recompute it: quick_check only
        elif checksum:
            found["checksum"] = mirror_checksum(con, algorithm)
            if recorded is not None and recorded != found["checksum"]:
                return result(
                    f"does not hold what build {row['build_id']} synced: its checksum "
                    f"{found['checksum']} differs from the recorded {recorded}"
                )
    except sqlite3.DatabaseError as e:
        return result(f"is damaged: {e}")
    finally:
        con.close()
    return result(None)


@dataclass(frozen=True)
class MirrorState:
    """What a sync and the strategy need of the mirror in place, read once: its layout
    version (None: no readable mirror) and its build rows, oldest first."""

    version: int | None
    builds: tuple[BuildRow, ...]

    @property
    def latest(self) -> BuildRow | None:
        return self.builds[-1] if self.builds else None


def mirror_state(path: Path | str) -> MirrorState:
    """The mirror at `path` as a sync finds it. A mirror that cannot be read is no mirror
    (its history starts afresh); a history row that cannot be read is left out. Both are
    logged."""
    path = Path(path)
    if not path.exists():
        return MirrorState(None, ())
    try:
        con = connect_read_only(path)
        con.row_factory = sqlite3.Row
        try:
            db = TracedSQLite(con)
            (version,) = con.execute("PRAGMA user_version").fetchone()
            found = db.execute(read_query("mirror/builds"), name="mirror/builds")
            rows = [dict(row) for row in found]
        finally:
            con.close()
    except sqlite3.Error as e:
        log.warning("the mirror in place cannot be read, build history starts afresh: %s", e)
        return MirrorState(None, ())
    builds = []
    for row in rows:
        try:
            builds.append(BuildRow.from_row(row))
        except DamagedBuildRow as e:
            log.warning("%s: %s; left out of the history", path, e)
    return MirrorState(int(version), tuple(builds))


def mirror_status(path: Path | str) -> dict[str, object]:
    """What the mirror at `path` holds, for `contact-events status` and doctor (the API's
    /status answers the same from its own connection, with the same queries): the latest
    build row (JSON columns parsed), ledger rows per source, rejects per reason, the age
    in seconds (now - synced_at) and the quick verification. Raises FileNotFoundError
    without a mirror, sqlite3.Error for a file that is not one, DamagedBuildRow when the
    latest build row holds text that is not JSON or a synced_at that is not a time."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    verification = verify_mirror(path)
    con = connect_read_only(path)
    con.row_factory = sqlite3.Row
    try:
        row = con.execute(read_query("api/latest_build")).fetchone()
        by_source = dict(con.execute(read_query("api/rows_by_source")).fetchall())
        by_reason = dict(con.execute(read_query("api/rejects_by_reason")).fetchall())
    finally:
        con.close()
    build = None
    age = None
    if row is not None:
        try:
            found = BuildRow.from_row(row)
        except DamagedBuildRow as e:
            raise DamagedBuildRow(
                f"{path}: the latest ledger_builds row is damaged ({'; '.join(e.problems)}); "
                "`contact-events run` (or build + sync) writes a new mirror",
                e.problems,
            ) from None
        build = found.to_dict()
        age = round((datetime.now(UTC) - found.synced).total_seconds(), 3)
    return {
        "mirror": str(path),
        "build": build,
        "rows_by_source": by_source,
        "rejects_by_reason": by_reason,
        "mirror_age_seconds": age,
        "verification": verification.to_dict(),
    }

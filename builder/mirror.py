"""The SQLite mirror's files, and the one way to open the mirror read-only.

Everything the product keeps beside the mirror (`CONTACT_EVENTS_MIRROR_PATH`) is named
here and nowhere else:

    <mirror>                              the SQLite mirror (CONTRACT §4)
    <mirror>.lock                         the writers' lock (builder.lock)
    <mirror>.jobs.db                      the API's rebuild jobs (app.jobs)
    <mirror>.validation-failed-<UTC>.json reports of failed validations (owner-only)
    .<mirror>.tmp-<pid>-<id>              a sync's new file, before it is swapped in

and so is the mirror's one timestamp text, `YYYY-MM-DD HH:MM:SS.ffffff` in UTC
(`contract.MIRROR_TIMESTAMP_FORMAT`), which SQLite's own `DATETIME()` compares against.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from builder.contract import MIRROR_TIMESTAMP_FORMAT

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

    def new_temp(self) -> Path:
        """A fresh name for a sync's new file: hidden, beside the mirror, owner pid first."""
        name = f".{self.path.name}{TEMP_INFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        return self.path.with_name(name)

    def temps(self) -> list[Path]:
        """Every sync temp file beside the mirror (a killed sync's included)."""
        return sorted(self.path.parent.glob(f".{self.path.name}{TEMP_INFIX}*"))

    @staticmethod
    def temp_owner(temp: Path) -> int | None:
        """The pid that made a temp file, from its name."""
        pid = temp.name.split(TEMP_INFIX, 1)[-1].split("-", 1)[0]
        return int(pid) if pid.isdigit() else None

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

"""Patient data is owner-only: how the product creates its files and folders.

Every file that holds PHI or says something about it (the mirror, a sync's temp file,
`<mirror>.jobs.db`, the DuckDB warehouse, the writers' lock, failed-validation reports,
the demo's token file) is created mode 0600, and every folder the product creates for
them mode 0700, whatever the process umask: the mode is given at creation and set again
with chmod (the umask can only take bits away). Folders that already exist are left as
they are (they are the operator's); files the product owns are brought back to 0600
when it opens them for writing.

Disk full: `disk_full()` turns "no space left" into one error naming the folder, the free
space and the space needed.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
# The umask the command line and the API's rebuilds run under, so that files an engine
# creates on its own (DuckDB's WAL and spill files, SQLite journals) are owner-only too.
UMASK = 0o077


def private_dir(path: Path | str) -> Path:
    """Create `path` and any missing parents mode 0700; existing folders are left alone."""
    path = Path(path)
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(folder, DIR_MODE)
    return path


def create_private(path: Path | str) -> Path:
    """Create the empty file `path` (it must not exist) mode 0600."""
    path = Path(path)
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def make_private(path: Path | str) -> None:
    """Bring an existing file of the product's back to 0600 (if this user owns it)."""
    try:
        if os.stat(path).st_mode & 0o777 != FILE_MODE:
            os.chmod(path, FILE_MODE)
    except (FileNotFoundError, PermissionError):
        pass


def ensure_private(path: Path | str) -> Path:
    """`path` exists as an owner-only file (created empty if missing)."""
    path = Path(path)
    try:
        create_private(path)
    except FileExistsError:
        make_private(path)
    return path


def remove_sqlite_side_files(path: Path | str) -> None:
    """Delete the journal, WAL and shared-memory files SQLite keeps beside `path`."""
    path = Path(path)
    for suffix in ("-journal", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def restrict_umask() -> int:
    """Set the process umask to 077 (returns the previous one)."""
    return os.umask(UMASK)


def free_bytes(path: Path | str) -> int | None:
    """Free space of the file system holding `path` (its nearest existing folder)."""
    current = Path(path)
    while not current.exists() and current.parent != current:
        current = current.parent
    try:
        return shutil.disk_usage(current).free
    except OSError:
        return None


def size_text(n: int | float | None) -> str:
    if n is None:
        return "unknown"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def is_disk_full(error: BaseException) -> bool:
    """Whether an OSError, SQLite or engine error says the disk is full."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(error).lower()
    return "no space left" in text or "disk is full" in text or "disk quota" in text


def disk_full(where: Path | str, needed: int | None, doing: str) -> str:
    """One line for a full disk: where, what was being written, the space needed and free."""
    folder = Path(where)
    free = free_bytes(folder)
    need = f"about {size_text(needed)} needed" if needed else "more space needed"
    return (
        f"disk full in {folder} while {doing}: {need}, {size_text(free)} free; "
        "free some space (or point the setting at a larger disk) and run it again"
    )

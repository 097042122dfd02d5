"""One writer at a time: `load`, `build`, `sync`, `run`, `validate` (on DuckDB) and API
rebuilds take one lock.

Two writers at once would step on each other: on BigQuery they share the staging tables
of the projection (`proj_stage_*`), and an incremental build merged between another
build's steps would publish a mix. DuckDB refuses a second writing process on its own,
but with an error about file locks rather than about what is running. So every writer
takes an exclusive lock on a file beside the mirror (`flock`: the kernel drops it when
the process dies, so a killed writer never leaves it held) and a second one fails at
once with `BusyError`, changing nothing; an API rebuild that meets a running
`contact-events run` ends `failed` with that message and the mirror keeps serving.

The holder writes who it is (command, pid, host, since) into the lock file, for
`BusyError` and `contact-events doctor`. Holding the lock also proves that no other
writer is running, so whatever a killed writer left behind is cleaned then: a sync's
temp files beside the mirror (here) and a load's `<table>__incoming` tables in the
warehouse (`writer_session`). Nothing is decided from a PID, which containers reuse.

The lock is per host (a file): builders on different machines against one BigQuery
dataset are not serialised by it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.config import Settings
from ..core.errors import BusyError
from ..core.files import FILE_MODE, private_dir, remove_sqlite_side_files
from ..mirror.store import MirrorFiles

log = logging.getLogger("contact_events.lock")


def lock_path(settings: Settings) -> Path:
    return MirrorFiles.at(settings.mirror_path).lock


def _describe(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "another load, build, sync or rebuild"
    return (
        f"`{holder.get('doing', '?')}` (pid {holder.get('pid', '?')} on "
        f"{holder.get('host', '?')}, since {holder.get('since', '?')})"
    )


def _read_holder(fd: int) -> dict[str, Any] | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 4096).decode("utf-8", "replace").strip()
        return json.loads(text) if text else None
    except (OSError, ValueError):
        return None


def holder(settings: Settings) -> dict[str, Any] | None:
    """Who holds the writers' lock now (None: nobody). For `doctor`: a shared probe that
    lets go at once."""
    path = lock_path(settings)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd) or {"doing": "unknown"}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextmanager
def writer_lock(settings: Settings, doing: str) -> Iterator[None]:
    """Hold the writers' lock while `doing`; BusyError at once if another writer has it.
    On acquiring it, removes the sync temp files a killed writer left beside the mirror."""
    path = lock_path(settings)
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError(
                f"cannot {doing}: {_describe(_read_holder(fd))} is running "
                f"(it holds {path}); try again when it has finished"
            ) from None
        me = {
            "doing": doing,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        log.info("writers' lock %s taken to %s", path, doing)
        try:
            remove_stale_temps(settings)
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def remove_stale_temps(settings: Settings) -> list[Path]:
    """Delete every sync temp file beside the mirror. Only call it holding the lock: then
    no sync is running, so each one is a killed writer's."""
    removed = []
    for stale in MirrorFiles.at(settings.mirror_path).temps():
        stale.unlink(missing_ok=True)
        remove_sqlite_side_files(stale)
        log.warning("removed %s, left by a sync that was killed", stale)
        removed.append(stale)
    return removed


@contextmanager
def writer_session(settings: Settings, doing: str) -> Iterator[Any]:
    """The writers' lock, then the warehouse: what every writing command runs in. A load's
    staging tables that a killed load left behind are dropped first."""
    from ..engine import open_warehouse

    with writer_lock(settings, doing), open_warehouse(settings) as warehouse:
        for table in warehouse.leftover_staging():
            log.warning("dropping %s, left by a load that was killed", table)
            warehouse.drop_quietly(table)
        yield warehouse

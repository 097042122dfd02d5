"""One writer at a time: `load`, `build`, `sync`, `run` and API rebuilds take one lock.

Two writers at once would step on each other: on BigQuery they share the staging tables
of the projection (`proj_stage_*`), and an incremental build merged between another
build's steps would publish a mix. DuckDB refuses a second writing process on its own,
but with an error about file locks rather than about what is running. So every writer
takes an exclusive lock file beside the mirror and a second one fails at once with
`BusyError`, changing nothing; an API rebuild that meets a running `contact-events run`
ends `failed` with that message and the mirror keeps serving.

The lock is per host (a file): builders on different machines against one BigQuery
dataset are not serialised by it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from builder.config import Settings
from builder.errors import BusyError
from builder.mirror import MirrorFiles


def lock_path(settings: Settings) -> Path:
    return MirrorFiles.at(settings.mirror_path).lock


@contextmanager
def writer_lock(settings: Settings, doing: str) -> Iterator[None]:
    """Hold the writers' lock while `doing`; BusyError at once if another writer has it."""
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    # thread_local=False: the API's rebuild thread and a request thread share one process.
    lock = FileLock(path, timeout=0, thread_local=False, is_singleton=False)
    try:
        lock.acquire()
    except Timeout:
        raise BusyError(
            f"cannot {doing}: another load, build, sync or rebuild is running "
            f"(it holds {path}); try again when it has finished"
        ) from None
    try:
        yield
    finally:
        lock.release()

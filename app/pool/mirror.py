"""The mirror file and every connection the API holds to it: a bounded pool.

Connections belong to the pool, not to threads (threads come and go in the thread pool;
a connection left on a retired thread was never closed, and after a sync each one pinned
a deleted mirror file). The pool:

- hands out the most recently used idle connection (LIFO, so few stay warm) or opens one;
  a connection in use is used by one request at a time;
- keeps at most `max_idle` idle connections and closes any returned beyond that, so a
  burst of concurrent requests leaves `max_idle` handles, not one per thread;
- knows the mirror file by its identity (st_dev, st_ino, st_mtime_ns, st_size), taken
  before a connection is handed out. `sync` replaces the file with `os.replace`, so the
  path then names a new inode: the pool closes every idle connection to the old file at
  once, and each one in use when it comes back. `check()` (run every few seconds by the
  app) does the same when no request comes. So a swapped-out mirror is unlinked for real
  within seconds, not whenever each thread happens to run again;
- closes a connection that failed (a damaged file) instead of reusing it;
- verifies each mirror file before it serves from it (`builder.mirror.store.verify_mirror`:
  SQLite's `PRAGMA quick_check` and a build row; ~0.5 s at 1M rows), once per file
  identity -- a new file, or one changed in place -- never per request. The app's watcher
  does it in a thread within seconds of a swap; a request that meets an unverified file
  first does it itself (a request on the event loop hands itself to the thread pool for
  that, `VerifyFirst`). A file that does not verify is not served: every data route
  answers 503 `mirror_unavailable` saying so, and /health says `mirror_verified: false`,
  until a new file (a rebuild) replaces it.

A connection still in use keeps reading the old (unlinked) file until its request ends:
never a half-written mirror. In use at once: at most the thread pool's size plus the
event loop's one, all bounded.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from contact_events.builder.mirror.store import Verification, verify_mirror

from ..core.timestamps import now_utc
from .db import BAD_MIRROR, NO_MIRROR, Build, FileKey, MirrorUnavailable, Reader

log = logging.getLogger("contact_events.api")

MAX_IDLE = 4


class VerifyFirst(Exception):  # noqa: N818 - a signal, not an error
    """`acquire(blocking=False)` met a mirror file not verified yet: call again from a
    thread (verification reads the whole file, too long for the event loop)."""


@dataclass(frozen=True)
class Check:
    """The verification of one mirror file identity."""

    key: FileKey
    verification: Verification
    checked_at: datetime

    @property
    def ok(self) -> bool:
        return self.verification.ok

    def unavailable(self) -> MirrorUnavailable:
        found = self.verification.quick_check
        if found and found != "ok":
            why = f"quick_check found: {found}"
        else:
            problem = self.verification.problem
            why = f"the file {problem}" if problem else "unknown problem"
        return MirrorUnavailable(
            f"the SQLite mirror in service did not verify ({why}); rebuild it "
            "(`contact-events run` or POST /rebuild)"
        )


class Mirror:
    """The mirror file at `path` and the pool of read-only connections to it."""

    def __init__(
        self,
        path: Path,
        *,
        time_limit_ms: int = 5000,
        max_rows: int = 50000,
        max_idle: int = MAX_IDLE,
    ) -> None:
        self.path = Path(path)
        self.time_limit_ms = max(1, int(time_limit_ms))
        self.max_rows = max(1, int(max_rows))
        self.max_idle = max(1, int(max_idle))
        self._lock = threading.Lock()
        self._key: FileKey | None = None
        self._idle: list[Reader] = []
        self._open = 0
        self._on_swap: list[Callable[[], None]] = []
        self._memo: tuple[str, dict[str, Any]] | None = None
        self._check: Check | None = None
        self._verify_lock = threading.Lock()

    # -- the file --------------------------------------------------------------------

    def _stat(self) -> FileKey | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as e:
            log.warning("cannot stat the mirror: %s", e)
            raise MirrorUnavailable(BAD_MIRROR) from None
        return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)

    def on_swap(self, callback: Callable[[], None]) -> None:
        """Call `callback` whenever the mirror file is replaced (or disappears)."""
        self._on_swap.append(callback)

    def _retire(self, key: FileKey | None) -> list[Reader]:
        """Under the lock: a new file identity; hand back the idle connections to close."""
        retired, self._idle = self._idle, []
        self._key = key
        self._memo = None
        return retired

    def _close(self, readers: list[Reader], swapped: bool) -> None:
        for reader in readers:
            reader.close()
        if readers:
            with self._lock:
                self._open -= len(readers)
        if swapped:
            for callback in self._on_swap:
                callback()

    # -- verification -------------------------------------------------------------------

    def verified(self, key: FileKey) -> Check:
        """The check of the file with identity `key`: done now unless already done."""
        check = self._check
        if check is not None and check.key == key:
            return check
        with self._verify_lock:  # one verification at a time; the others wait for it
            check = self._check
            if check is not None and check.key == key:
                return check
            verification = verify_mirror(self.path)
            check = Check(key, verification, now_utc())
            if verification.ok:
                log.info("mirror verified in %.3f s (quick_check)", verification.seconds)
            else:
                log.warning(
                    "the mirror does not verify: %s %s", verification.path, verification.problem
                )
            self._check = check
            return check

    def check_of(self, key: FileKey) -> Check | None:
        """The verification of the file with identity `key`, if it was verified."""
        check = self._check
        return check if check is not None and check.key == key else None

    # -- connections ------------------------------------------------------------------

    def acquire(self, blocking: bool = True) -> Reader:
        """A connection to the current mirror file (503 when there is none, or when it did
        not verify). `blocking=False` (the event loop): raise VerifyFirst rather than
        verify a new file here."""
        key = self._stat()
        check: Check | None = None
        if key is not None:
            check = self._check
            if check is None or check.key != key:
                if not blocking:
                    raise VerifyFirst
                check = self.verified(key)
        usable = check is not None and check.ok
        retired: list[Reader] = []
        reader = None
        with self._lock:
            swapped = key != self._key
            if swapped:  # a new file (or none): the old file's idle connections go
                retired = self._retire(key)
            elif self._idle and usable:
                reader = self._idle.pop()
            if reader is None and usable:
                self._open += 1
        if swapped:
            self._close(retired, swapped=True)
        if key is None:
            raise MirrorUnavailable(NO_MIRROR)
        if not usable:
            assert check is not None
            raise check.unavailable()
        if reader is not None:
            return reader
        try:
            return Reader(self.path, key, self.time_limit_ms)
        except BaseException:
            with self._lock:
                self._open -= 1
            raise

    def release(self, reader: Reader) -> None:
        """Give a connection back: kept if current, healthy and room is left; else closed."""
        with self._lock:
            if not reader.broken and reader.key == self._key and len(self._idle) < self.max_idle:
                self._idle.append(reader)
                return
            self._open -= 1
        reader.close()

    @contextmanager
    def reader(self, blocking: bool = True) -> Iterator[Reader]:
        reader = self.acquire(blocking)
        try:
            yield reader
        finally:
            self.release(reader)

    def check(self) -> None:
        """Close idle connections to a mirror file that was replaced or removed, and
        verify a new one (the app's watcher calls this from a thread every few seconds)."""
        try:
            key = self._stat()
        except MirrorUnavailable:
            key = None
        if key is not None:
            self.verified(key)
        with self._lock:
            if key == self._key:
                return
            retired = self._retire(key)
        self._close(retired, swapped=True)

    def close_all(self) -> None:
        """At shutdown: close every idle connection (one in use closes when returned)."""
        with self._lock:
            retired, self._idle = self._idle, []
            self._key = None
        self._close(retired, swapped=False)

    @property
    def open_connections(self) -> int:
        """Connections open now (in use or idle)."""
        with self._lock:
            return self._open

    # -- per build --------------------------------------------------------------------

    def memo(self, build: Build, name: str, compute: Callable[[], Any]) -> Any:
        """`compute()` once per build of the current file (e.g. GET /status's counts)."""
        with self._lock:
            memo = self._memo
            if memo is not None and memo[0] == build.identity and name in memo[1]:
                return memo[1][name]
        value = compute()
        with self._lock:
            if self._memo is None or self._memo[0] != build.identity:
                self._memo = (build.identity, {})
            self._memo[1][name] = value
        return value

    def health(self) -> tuple[bool, bool]:
        """(available, verified): whether a mirror that verified and has a readable build
        is in place, and whether the file in service verified (GET /health). Blocking:
        call from a thread."""
        try:
            with self.reader() as db:
                db.begin()
                db.end()
        except MirrorUnavailable:
            available = False
        else:
            available = True
        check = self._check
        try:
            key = self._stat()
        except MirrorUnavailable:
            key = None
        verified = check is not None and check.key == key and key is not None and check.ok
        return available, verified

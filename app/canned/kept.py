"""The order of a whole answer of the per-contact list queries, computed once and kept for
the cursor's life, so that reading every page costs about one query, not one per page.

needs-form and gone-quiet aggregate over every contact before they can sort; a page of
them costs nearly the whole query. So their SQL is an order (contact ids and sort keys)
and the items of a page. The first page of an answer runs the order once without the
page limit (up to the row cap) and keeps its rows as a `Segment` under the answer's key:
route, query variant, filters, as_of and the mirror build the snapshot held. Every page
(its cursor pins as_of) is a slice of the segment, found by binary search on the sort
key; only its items are queried (app/canned/handler.py).

- Bounded: segments are kept least recently used first out, up to `max_bytes` (an
  estimate of their size in memory); an answer bigger than that is served page by page.
- Evicted on swap: the app clears the cache when the mirror file is replaced, and an
  answer is only ever found again under the build it was computed from.
- Same answers: a segment holds exactly the rows the order query returns after the
  segment's start key, so a slice after a cursor key equals the query run with that key
  (the test suite checks every page against the single query, across a swap too).
- One computation per answer at a time: concurrent first pages of one answer wait for
  the one running instead of each aggregating the whole ledger.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

MAX_BYTES = 64 * 1024 * 1024
ROW_OVERHEAD = 100  # bytes per kept row beyond its strings: the tuple, the list slot


Key = tuple[str, ...]


@dataclass(frozen=True)
class Segment:
    """Rows of one answer in order, as the query returned them, after `start` (None: from
    the first row). `key(row)` is a row's sort key (ascending); `complete` says the
    segment reaches the answer's end (otherwise it stopped at the row cap and more rows
    exist)."""

    start: Key | None
    rows: list[tuple[Any, ...]]
    key: Callable[[tuple[Any, ...]], Key]
    complete: bool
    size: int
    columns: tuple[str, ...] = ()  # the order query's result columns

    def page(
        self, after: Key | None, page_size: int
    ) -> tuple[list[tuple[Any, ...]], Key | None] | None:
        """(rows, the key next_cursor carries or None) of the page after `after`, or None
        when this segment cannot tell (it starts later, or stops at the cap first)."""
        if self.start is not None and (after is None or after < self.start):
            return None
        begin = 0 if after is None else bisect_right(self.rows, after, key=self.key)
        end = begin + page_size
        if end < len(self.rows):
            return self.rows[begin:end], self.key(self.rows[end - 1])
        if not self.complete:
            return None
        return self.rows[begin:], None


def estimate_size(rows: list[tuple[Any, ...]]) -> int:
    """Bytes the rows hold, estimated from a sample (strings, tuples, the list)."""
    if not rows:
        return 0
    step = max(1, len(rows) // 200)
    sample = rows[::step]
    total = 0
    for row in sample:
        total += ROW_OVERHEAD
        for value in row:
            if isinstance(value, str):
                total += 49 + len(value)
    return total * len(rows) // len(sample)


class AnswerCache:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._segments: OrderedDict[Hashable, Segment] = OrderedDict()
        self._bytes = 0
        self._computing: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable) -> Segment | None:
        with self._lock:
            segment = self._segments.get(key)
            if segment is not None:
                self._segments.move_to_end(key)
            return segment

    def put(self, key: Hashable, segment: Segment) -> None:
        if segment.size > self.max_bytes:
            return
        with self._lock:
            old = self._segments.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._segments[key] = segment
            self._bytes += segment.size
            while self._bytes > self.max_bytes:
                _, evicted = self._segments.popitem(last=False)
                self._bytes -= evicted.size

    def clear(self) -> None:
        with self._lock:
            self._segments.clear()
            self._bytes = 0

    def computing(self, key: Hashable) -> threading.Lock:
        """The lock held while `key`'s answer is computed (one computation at a time)."""
        with self._lock:
            lock = self._computing.get(key)
            if lock is None:
                if len(self._computing) > 64:  # forget idle locks; never grows without end
                    for name, held in list(self._computing.items()):
                        if not held.locked():
                            del self._computing[name]
                lock = self._computing[key] = threading.Lock()
            return lock

    @property
    def bytes(self) -> int:
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._segments)

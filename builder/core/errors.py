"""The product's one error hierarchy, and the one way an error becomes one line.

A `ContactEventsError` is an error a user can act on (bad input, a missing table, a bad
setting): the CLI, the rebuild jobs and `serve` print it with `one_line`, never with a
traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class ContactEventsError(Exception):
    """Base class: an error a user can act on (bad input, missing table, bad config)."""


class ConfigError(ContactEventsError):
    """Settings are missing or inconsistent."""


class LoadError(ContactEventsError):
    """A canonical JSONL file could not be loaded; nothing was changed."""


class WarehouseError(ContactEventsError):
    """The warehouse refused a statement, or a table it needs is missing."""


class SyncError(ContactEventsError):
    """The mirror could not be written; the previous mirror is still in place."""


class PipelineError(ContactEventsError):
    """The daily pipeline stopped (too many errors, validation mismatch)."""


class BusyError(ContactEventsError):
    """Another load, build, sync or rebuild holds the writers' lock; nothing was changed."""


def flatten(text: object) -> str:
    """`text` on one line: its non-blank lines, trimmed, joined with `; `."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def one_line(error: BaseException) -> str:
    """`Kind: message` on one line, e.g. `ConfigError: bad configuration: ...`."""
    message = flatten(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__

"""Small named exceptions. The CLI turns each into a one-line message and exit code 1."""


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

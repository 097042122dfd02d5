"""Names and types fixed by ../shared/CONTRACT.md. Changing one is a breaking change.

Only constants live here: both the SQL path and the independent validation path may
import them, but neither shares mapping logic with the other.
"""

from __future__ import annotations

import re

STRING = "STRING"
INT64 = "INT64"
STRING_ARRAY = "ARRAY<STRING>"
JSON = "JSON"  # a JSON value (BigQuery JSON; DuckDB text read by its JSON functions)
TIMESTAMP = "TIMESTAMP"  # a UTC instant

# The contacts' columns (CONTRACT §1), in contract order: what every profile's contacts
# file selects and what the mirror's `contacts` table holds. The canonical tables a
# profile reads, and their columns, are declared by its own files
# (queries/profiles/<name>/, builder/stages/profiles.py).
CONTACT_COLUMNS = (
    "contact_id",
    "email",
    "first_name",
    "last_name",
    "lifecycle_stage",
    "client_type_code",
    "updated_at",
)
CUSTOM_PROFILE = "custom"  # the profile name recorded for a SOURCES_DIR build

# The flat profile's event types (CONTRACT §2); a profile's own set comes from its sources.
EVENT_TYPES = ("form", "session", "email", "message", "system")
# Display order of the event types the built-in profiles declare; others follow, sorted.
EVENT_TYPE_ORDER = (*EVENT_TYPES, "invoice", "payment", "refund")
EVENT_TYPE_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")

# The staged shape (README "Profiles"): what every profile source file selects, one row per
# canonical row. `source_system` and `event_type` are declared in the file's header, not
# selected. `orphan_detail` is optional: why a row has no identity (the orphan's detail).
STAGED_COLUMNS = (
    "source_record_id",
    "event_name",
    "event_source",
    "timestamp_raw",
    "created_at_raw",
    "source_contact_id",
    "source_email",
    "payload",
)
OPTIONAL_STAGED_COLUMNS = ("orphan_detail",)
NO_IDENTITY = "no contact_id and no email"  # an orphan's detail when the source says no more

# Ledger columns, in contract order (CONTRACT §2).
LEDGER_COLUMNS = (
    "contact_id",
    "contact_email",
    "event_type",
    "event_name",
    "event_source",
    "event_timestamp",
    "source_system",
    "source_record_id",
    "payload",
)
REJECT_COLUMNS = ("source_system", "source_record_id", "severity", "reason", "detail")

# Reasons in priority order: the first that applies is a row's reason (CONTRACT §2).
REASONS = (
    "missing_record_id",
    "missing_timestamp",
    "bad_timestamp",
    "unknown_contact_id",
    "ambiguous_email",
    "orphan",
)
WARNING_REASONS = ("orphan",)

# Warehouse table names of the projection.
LEDGER_TABLE = "proj_contact_events"
REJECTS_TABLE = "proj_contact_events_rejects"
CONTACTS_TABLE = "proj_contacts"
BUILD_TABLE = "proj_contact_events_build"

# Mirror table names (CONTRACT §4).
MIRROR_LEDGER = "contact_events"
MIRROR_REJECTS = "contact_events_rejects"
MIRROR_CONTACTS = "contacts"
MIRROR_BUILDS = "ledger_builds"

# The timestamp grammar both engines and the reference path accept (README "Timestamps"):
# a date, optionally a time (00:00:00-23:59:59, after `T`, `t` or a space) with any number
# of fractional digits (RFC 3339; digits beyond microseconds are dropped, not rounded),
# optionally `Z`/`z` or an offset from -14:00 to +14:00 (only after a time); surrounding
# whitespace (TRIM_CHARS) is ignored. Anything else is `bad_timestamp`, as is a match that
# is no real date (2024-02-30) or that falls outside the years 0001-9999 once in UTC.
TIMESTAMP_PATTERN = (
    r"^\d{4}-\d{2}-\d{2}"  # date
    r"([Tt ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"  # time
    r"([Zz]|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)?)?$"  # offset, only after a time
)
TIMESTAMP_RE = re.compile(TIMESTAMP_PATTERN)

# What "trimmed" removes, everywhere (timestamps, emails, directions): the SQL writes
# TRIM(x, ' \t\n\r') because DuckDB's one-argument TRIM strips only spaces.
TRIM_CHARS = " \t\n\r"

# Email normalisation (README "Emails"): trimmed (TRIM_CHARS), then the ASCII letters A-Z
# lower-cased and nothing else. Unicode lower-casing differs between engines and Python
# (final sigma, dotted I, sharp s), so no engine applies it: the SQL writes
# TRANSLATE(x, 'A..Z', 'a..z'), the reference path `str.translate(ASCII_LOWER)`, and
# SQLite's own lower() is ASCII-only already. Message directions are compared the same way.
ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ASCII_LOWER = str.maketrans(ASCII_UPPER, ASCII_UPPER.lower())


# SQLite mirror timestamp text form (CONTRACT §4).
MIRROR_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"

EMAIL_SUBJECT_CHARS = 50
NO_SUBJECT = "(no subject)"

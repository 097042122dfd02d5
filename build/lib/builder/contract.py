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

# Canonical input tables (CONTRACT §1): column -> type, in contract order.
CANONICAL_TABLES: dict[str, dict[str, str]] = {
    "contacts": {
        "contact_id": STRING,
        "email": STRING,
        "first_name": STRING,
        "last_name": STRING,
        "lifecycle_stage": STRING,
        "client_type_code": STRING,
        "updated_at": STRING,
    },
    "measurement_events": {
        "measurement_event_id": STRING,
        "subject_id": STRING,
        "measure_id": STRING,
        "measure_version": STRING,
        "binding_id": STRING,
        "binding_version": STRING,
        "form_id": STRING,
        "form_submission_id": STRING,
        "timestamp": STRING,
        "created_at": STRING,
    },
    "clinical_sessions": {
        "session_id": STRING,
        "contact_id": STRING,
        "status": STRING,
        "session_num": INT64,
        "idem_key": STRING,
        "started_at": STRING,
        "ended_at": STRING,
        "created_at": STRING,
    },
    "email_events": {
        "email_event_id": STRING,
        "provider": STRING,
        "from_email": STRING,
        "to_emails": STRING_ARRAY,
        "subject": STRING,
        "thread_id": STRING,
        "labels": STRING_ARRAY,
        "sent_at": STRING,
        "created_at": STRING,
    },
    "messages": {
        "message_id": STRING,
        "channel": STRING,
        "direction": STRING,
        "contact_id": STRING,
        "contact_email": STRING,
        "body_preview": STRING,
        "sent_at": STRING,
        "created_at": STRING,
    },
    "system_events": {
        "system_event_id": STRING,
        "contact_id": STRING,
        "contact_email": STRING,
        "event_name": STRING,
        "actor": STRING,
        "occurred_at": STRING,
        "created_at": STRING,
    },
}

# The lorchestra layout (CONTRACT §7): most canonicals are rows of `canonical_objects`
# (JSON payload, Iglu `canonical_schema` naming the kind), form submissions their own table.
LORCHESTRA_TABLES: dict[str, dict[str, str]] = {
    "canonical_objects": {
        "idem_key": STRING,
        "source_system": STRING,
        "connection_name": STRING,
        "object_type": STRING,
        "canonical_schema": STRING,
        "canonical_format": STRING,
        "payload": JSON,
        "created_at": TIMESTAMP,
    },
    "measurement_events": {
        "measurement_event_id": STRING,
        "subject_id": STRING,
        "event_type": STRING,
        "event_subtype": STRING,
        "occurred_at": TIMESTAMP,
        "binding_id": STRING,
        "binding_version": STRING,
        "form_id": STRING,
        "source_id": STRING,
        "canonical_object_id": STRING,
        "processed_at": TIMESTAMP,
    },
}

# The canonical tables `contact-events load DIR` writes, per built-in profile (CONTRACT §7).
# A practice's own SOURCES_DIR reads tables already in its warehouse: nothing to load.
PROFILE_TABLES: dict[str, dict[str, dict[str, str]]] = {
    "flat": CANONICAL_TABLES,
    "lorchestra": LORCHESTRA_TABLES,
}
CUSTOM_PROFILE = "custom"  # the profile name recorded for a SOURCES_DIR build

# Flat event sources: canonical table -> (source_system, record id column), CONTRACT §2.
SOURCES: dict[str, tuple[str, str]] = {
    "measurement_events": ("measurement_events", "measurement_event_id"),
    "clinical_sessions": ("canonical.clinical_sessions", "session_id"),
    "email_events": ("canonical.email_events", "email_event_id"),
    "messages": ("canonical.messages", "message_id"),
    "system_events": ("canonical.system_events", "system_event_id"),
}

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

"""`contact-events validate`: an independent reference path, compared with the ledger.

The ledger is built by the SQL path. This package rebuilds it a second time in plain
Python, straight from CONTRACT.md §1-3 and the rules written down next to it, and
compares the two: the warehouse projection (`proj_contact_events`, its rejects and
`proj_contacts`) and, when given, a SQLite mirror file (opened read-only). Nothing is
shared with the SQL path but the constants of `builder.contract` (GitHub issue 5), so a
mapping bug in one cannot hide the same bug in the other.

Memory: canonical rows are streamed (`Warehouse.read_batches`) and never held. The
reference ledger of one source at a time is held in a dict keyed by `source_record_id`
(compact tuples), then the ledger rows of that source are streamed and compared, then
the dict is dropped. The contacts (deduplicated) and the rejects tables are held whole.

Rules this reference path applies (CONTRACT §1-3, plus the decisions it leaves open):

* Timestamps: trimmed of surrounding whitespace (`contract.TRIM_CHARS`); empty = missing;
  otherwise the whole text must match `contract.TIMESTAMP_RE`, with ASCII digits, and be
  a real instant (2024-02-30 is bad, and so is an instant that leaves years 1-9999 once
  in UTC: no engine or mirror text can hold it); no offset means UTC, a date alone is
  midnight (at its offset, if it has one: the grammar allows `2024-03-01+02:00`).
* Ids: `''` is missing; ids are not trimmed. Other strings: `''` is null.
* Emails compare trimmed (`contract.TRIM_CHARS`) with the ASCII letters A-Z lower-cased
  and nothing else (`contract.ASCII_LOWER`); `message.direction` too. Subjects,
  channels, names are not trimmed.
* Dedupe per (source_system, source_record_id): latest parsed `created_at` wins (null or
  unparseable loses); ties by the smallest (event_name, event_source, timestamp_raw,
  source_contact_id, email_norm, payload_json_text, created_at_raw), None first.
* Contacts: no/empty contact_id ignored; duplicates: latest `updated_at`, ties by the
  smallest (email, first_name, last_name, lifecycle_stage, client_type_code,
  updated_at), None first; expected `proj_contacts` row = the winner as written,
  `''` read as null.

Finding kinds (`KINDS`) are errors except `payload_not_canonical` and `column_type`,
which are warnings: they do not make a result fail.

Read from the tree down: `findings` (what is reported), `timestamps`, `mapping` (each
source to candidate rows), `reference` (contacts, dedupe, resolution: the reference
ledger), `compare` (against the warehouse and the mirror), `api` (`validate`,
`check_mirror`), `rendering` (rich output).
"""

from __future__ import annotations

from builder.validate.api import (
    KEEP_FAILED_REPORTS,
    check_mirror,
    keep_failed_report,
    select_contacts,
    validate,
)
from builder.validate.compare import _expected_dict as _expected_dict
from builder.validate.findings import (
    BUILD_REPORT_DIFFERS,
    COLUMN_TYPE,
    CONTACT_DIFFERS,
    CONTACT_MISSING,
    CONTACT_UNEXPECTED,
    DUPLICATE_KEY,
    FIELD_DIFFERS,
    KINDS,
    MAX_FINDINGS,
    MIRROR,
    MISSING,
    PAYLOAD_NOT_CANONICAL,
    REJECT_DIFFERS,
    REJECT_MISSING,
    REJECT_UNEXPECTED,
    TABLE_MISSING,
    UNEXPECTED,
    WAREHOUSE,
    WARNING_KINDS,
    ContactTimeline,
    Finding,
    ValidationResult,
)
from builder.validate.mapping import (
    C_CONTACT,
    C_CREATED,
    C_CREATED_RAW,
    C_EMAIL,
    C_NAME,
    C_PAYLOAD,
    C_SOURCE,
    C_TS,
    SPECS,
    Candidate,
    SourceSpec,
    norm_email,
    payload_text,
)
from builder.validate.reference import (
    CONTACT_COLUMNS,
    Contacts,
    Outcome,
    Reference,
    reference_contacts,
    reference_source,
)
from builder.validate.reference import _reason as _reason
from builder.validate.reference import _row as _row
from builder.validate.rendering import render, render_timeline
from builder.validate.timestamps import mirror_text, parse_instant, trim

# Also re-exported (`x as x`), for the tests: `_expected_dict`, `_reason`, `_row`.
__all__ = [
    "BUILD_REPORT_DIFFERS",
    "COLUMN_TYPE",
    "CONTACT_COLUMNS",
    "CONTACT_DIFFERS",
    "CONTACT_MISSING",
    "CONTACT_UNEXPECTED",
    "C_CONTACT",
    "C_CREATED",
    "C_CREATED_RAW",
    "C_EMAIL",
    "C_NAME",
    "C_PAYLOAD",
    "C_SOURCE",
    "C_TS",
    "DUPLICATE_KEY",
    "FIELD_DIFFERS",
    "KINDS",
    "MAX_FINDINGS",
    "MIRROR",
    "MISSING",
    "PAYLOAD_NOT_CANONICAL",
    "REJECT_DIFFERS",
    "REJECT_MISSING",
    "REJECT_UNEXPECTED",
    "SPECS",
    "TABLE_MISSING",
    "UNEXPECTED",
    "WAREHOUSE",
    "WARNING_KINDS",
    "Candidate",
    "ContactTimeline",
    "Contacts",
    "Finding",
    "Outcome",
    "Reference",
    "SourceSpec",
    "ValidationResult",
    "check_mirror",
    "keep_failed_report",
    "KEEP_FAILED_REPORTS",
    "mirror_text",
    "norm_email",
    "parse_instant",
    "payload_text",
    "reference_contacts",
    "reference_source",
    "render",
    "render_timeline",
    "select_contacts",
    "trim",
    "validate",
]

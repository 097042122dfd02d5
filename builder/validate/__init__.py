"""`contact-events validate`: an independent reference path, compared with the ledger.

The ledger is built by the SQL path. This package rebuilds it a second time in plain
Python, straight from CONTRACT.md §1-3 and the rules written down next to it, and
compares the two: the warehouse projection (`proj_contact_events`, its rejects and
`proj_contacts`) and, when given, a SQLite mirror file (opened read-only). Nothing is
shared with the SQL path but the constants of `builder.core.contract`, so a
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
source to candidate rows), `lorchestra` and `staged` (the same for the lorchestra
profile's objects and a SOURCES_DIR's staged rows), `sources` (which of them a profile
reads), `reference` (contacts, dedupe, resolution: the reference ledger), `compare`
(against the warehouse and the mirror), `api` (`validate`, `check_mirror`), `rendering`
(rich output).

The package exports what the CLI (`validate`, `render`, `render_timeline`) and the
pipeline (`check_mirror`) call. Everything else, private helpers included, is imported
from the module that defines it; so do the tests (tests/validate/ mirrors this package).
"""

from __future__ import annotations

from .api import check_mirror, validate
from .rendering import render, render_timeline

__all__ = ["check_mirror", "render", "render_timeline", "validate"]

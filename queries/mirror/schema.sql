-- SQLite mirror tables (CONTRACT §4), created empty in a new file by `sync`.
-- ledger_builds.profile / event_types: the profile of the build and its event-type set
-- (a JSON array, display order; the API accepts exactly these); strategy: JSON, how
-- the build and sync decided between full and incremental (builder/stages/strategy.py);
-- checksum: `sha256:<hex>` of the three data tables as this sync left them
-- (builder/mirror/store.py mirror_checksum; verify_mirror recomputes it).
-- user_version: the layout of ledger_builds (builder/mirror/build_row.py migrates rows of older
-- layouts; an incremental sync patches only a mirror of this layout).
-- Indexes come afterwards (queries/mirror/indexes.sql): loading first is ~2x faster.
-- event_timestamp is 'YYYY-MM-DD HH:MM:SS.ffffff' UTC: it compares correctly with
-- SQLite's DATETIME() text, e.g. event_timestamp < DATETIME('now', '-14 days').

CREATE TABLE contact_events (
  contact_id TEXT,
  contact_email TEXT,
  event_type TEXT NOT NULL,
  event_name TEXT,
  event_source TEXT,
  event_timestamp TEXT NOT NULL,
  source_system TEXT NOT NULL,
  source_record_id TEXT NOT NULL,
  payload TEXT NOT NULL
);

CREATE TABLE contact_events_rejects (
  source_system TEXT NOT NULL,
  source_record_id TEXT,
  severity TEXT NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT
);

CREATE TABLE contacts (
  contact_id TEXT NOT NULL,
  email TEXT,
  first_name TEXT,
  last_name TEXT,
  lifecycle_stage TEXT,
  client_type_code TEXT,
  updated_at TEXT
);

CREATE TABLE ledger_builds (
  build_id TEXT NOT NULL,
  built_at TEXT NOT NULL,
  synced_at TEXT NOT NULL,
  warehouse TEXT NOT NULL,
  mode TEXT NOT NULL DEFAULT 'full',
  ledger_rows INTEGER NOT NULL,
  rejects_rows INTEGER NOT NULL,
  contacts_rows INTEGER NOT NULL,
  error_rejects INTEGER NOT NULL,
  rejects_by_reason TEXT NOT NULL,
  rows_by_source TEXT NOT NULL,
  duplicates_by_source TEXT NOT NULL,
  build_seconds REAL,
  sync_seconds REAL,
  validation TEXT,
  profile TEXT NOT NULL DEFAULT 'flat',
  event_types TEXT,
  strategy TEXT,
  checksum TEXT
);

PRAGMA user_version = 2;

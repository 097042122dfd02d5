-- One ledger_builds row (SQLite, named parameters): a sync's own, or a row of the history
-- it carries over from the mirror it replaces (builder/mirror/build_row.py BuildRow.to_row).
INSERT INTO ledger_builds (
  build_id, built_at, synced_at, warehouse, mode, ledger_rows, rejects_rows, contacts_rows,
  error_rejects, rejects_by_reason, rows_by_source, duplicates_by_source,
  build_seconds, sync_seconds, validation, profile, event_types, strategy, checksum
) VALUES (
  :build_id, :built_at, :synced_at, :warehouse, :mode, :ledger_rows, :rejects_rows, :contacts_rows,
  :error_rejects, :rejects_by_reason, :rows_by_source, :duplicates_by_source,
  :build_seconds, :sync_seconds, :validation, :profile, :event_types, :strategy, :checksum
)

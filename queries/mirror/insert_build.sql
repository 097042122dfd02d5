-- One ledger_builds row per sync (SQLite, named parameters).
INSERT INTO ledger_builds (
  build_id, built_at, synced_at, warehouse, mode, ledger_rows, rejects_rows, contacts_rows,
  error_rejects, rejects_by_reason, rows_by_source, duplicates_by_source,
  build_seconds, sync_seconds, profile, event_types, strategy, checksum
) VALUES (
  :build_id, :built_at, :synced_at, :warehouse, :mode, :ledger_rows, :rejects_rows, :contacts_rows,
  :error_rejects, :rejects_by_reason, :rows_by_source, :duplicates_by_source,
  :build_seconds, :sync_seconds, :profile, :event_types, :strategy, :checksum
)

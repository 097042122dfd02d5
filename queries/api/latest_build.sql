-- The latest ledger_builds row (the sync that wrote this mirror file; older rows are the
-- carried-over history, in sync order). Read once per mirror file: X-Ledger-Built-At,
-- X-Ledger-Build-Id headers and GET /status.
--
-- No parameters.
SELECT
  build_id, built_at, synced_at, warehouse, ledger_rows, rejects_rows, contacts_rows,
  error_rejects, rejects_by_reason, rows_by_source, duplicates_by_source,
  build_seconds, sync_seconds, validation
FROM ledger_builds
ORDER BY rowid DESC
LIMIT 1

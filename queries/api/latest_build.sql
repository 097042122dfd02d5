-- The latest ledger_builds row: the sync (full, or an in-place incremental patch) that
-- produced what this mirror holds now; older rows are the carried-over history, in sync
-- order. Read at the start of every request's read transaction: it names the build in the
-- X-Ledger-Built-At / X-Ledger-Build-Id headers, and GET /status reports it.
--
-- `*` on purpose: ledger_builds gains columns over time (e.g. `mode`) and mirrors written
-- by an older sync lack them; /status reports whatever the row has.
--
-- No parameters.
SELECT *
FROM ledger_builds
ORDER BY rowid DESC
LIMIT 1

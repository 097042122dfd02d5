-- The pages (/ui/status): the rejects and orphan warnings, browsable by reason and source,
-- in the order sync wrote them (rowid), a page after the cursor's rowid.
--
-- Result: rowid (the cursor), source_system, source_record_id, severity, reason, detail.
--
-- Plan: the table in rowid order from :after, stopping after :limit matching rows (the
-- rejects are a small table next to the ledger: about 5% of its rows at most).
--
-- Parameters:
--   :reason  only this reason (NULL = any)
--   :source  only this source_system (NULL = any)
--   :after   rowid of the previous page's last row (0 = the first page)
--   :limit   rows to return (page size + 1, to tell whether there is a next page)
SELECT
  r.rowid,
  r.source_system,
  r.source_record_id,
  r.severity,
  r.reason,
  r.detail
FROM contact_events_rejects AS r
WHERE (:reason IS NULL OR r.reason = :reason)
  AND (:source IS NULL OR r.source_system = :source)
  AND r.rowid > :after
ORDER BY r.rowid
LIMIT :limit

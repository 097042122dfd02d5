-- The build report: one row per (measure, source_system, reason) with a count.
--   ledger_rows  rows in the ledger, per source_system
--   rejects      rows in the rejects table, per source_system and reason
--   duplicates   canonical rows collapsed into another row of the same record id
--   records_resolved  records this build resolved (all of them on a full build)
SELECT 'ledger_rows' AS measure, source_system, CAST(NULL AS STRING) AS reason, COUNT(*) AS n
FROM proj_contact_events
GROUP BY source_system
UNION ALL
SELECT 'rejects' AS measure, source_system, reason, COUNT(*) AS n
FROM proj_contact_events_rejects
GROUP BY source_system, reason
UNION ALL
SELECT 'duplicates' AS measure, source_system, CAST(NULL AS STRING) AS reason,
  COUNT(*) - COUNT(DISTINCT source_record_id) AS n
FROM proj_stage_events
WHERE source_record_id IS NOT NULL
GROUP BY source_system
UNION ALL
SELECT 'contacts' AS measure, CAST(NULL AS STRING) AS source_system, CAST(NULL AS STRING) AS reason,
  COUNT(*) AS n
FROM proj_contacts
UNION ALL
SELECT 'records_resolved' AS measure, CAST(NULL AS STRING) AS source_system,
  CAST(NULL AS STRING) AS reason, COUNT(*) AS n
FROM proj_stage_resolved

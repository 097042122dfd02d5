-- Step 3b, incremental builds only: records deleted upstream. A key in the ledger or the
-- rejects that no staged row carries any more is added to the changed records; having
-- no row to resolve, publish/incremental.sql removes it from the ledger and the rejects,
-- and `sync --incremental` from the mirror. (Every canonical row is staged on every
-- build, so this is an anti-join, not a second read of the sources.)
INSERT INTO proj_stage_changed (source_system, source_record_id)
SELECT l.source_system, l.source_record_id
FROM proj_contact_events AS l
WHERE NOT EXISTS (
  SELECT 1
  FROM proj_stage_events AS e
  WHERE e.source_system = l.source_system AND e.source_record_id = l.source_record_id
)
UNION DISTINCT
SELECT r.source_system, r.source_record_id
FROM proj_contact_events_rejects AS r
WHERE r.source_record_id IS NOT NULL
  AND NOT EXISTS (
    SELECT 1
    FROM proj_stage_events AS e
    WHERE e.source_system = r.source_system AND e.source_record_id = r.source_record_id
  )

-- Step 3 of the shared resolution, full build: every record is resolved (afresh).
-- Rows without a record id are not listed: they are resolved on every build.
CREATE OR REPLACE TABLE proj_stage_changed AS
SELECT DISTINCT source_system, source_record_id
FROM proj_stage_events
WHERE source_record_id IS NOT NULL

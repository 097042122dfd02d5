-- Step 3 of the shared resolution: which records to (re)resolve. proj_contacts still
-- holds the contacts of the previous build here (publish replaces it afterwards).
-- A full build (@incremental = FALSE) takes every record. An incremental build takes
--   * records with a row created since the source's watermark minus @lookback_hours,
--     or with a row whose created_at is missing/unparseable (it cannot be placed);
--   * records that point at a contact whose row changed since the last build (by
--     contact_id, or by the old or new email), since their resolution may change.
-- Rows without a record id are not listed: they are re-resolved on every build.
CREATE OR REPLACE TABLE proj_stage_changed AS
WITH contact_changes AS (
  SELECT contact_id, email FROM (
    SELECT * FROM proj_stage_contacts
    EXCEPT DISTINCT
    SELECT * FROM proj_contacts
  )
  UNION ALL
  SELECT contact_id, email FROM (
    SELECT * FROM proj_contacts
    EXCEPT DISTINCT
    SELECT * FROM proj_stage_contacts
  )
)
SELECT DISTINCT e.source_system, e.source_record_id
FROM proj_stage_events AS e
LEFT JOIN proj_contact_events_watermarks AS w
  ON w.source_system = e.source_system
WHERE e.source_record_id IS NOT NULL
  AND (
    NOT @incremental
    OR w.watermark IS NULL
    OR e.created_at_ts IS NULL
    OR e.created_at_ts >= TIMESTAMP_SUB(w.watermark, INTERVAL @lookback_hours HOUR)
    OR e.source_contact_id IN (SELECT contact_id FROM contact_changes)
    OR e.email_norm IN (SELECT NULLIF(TRANSLATE(TRIM(email, ' \t\n\r'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '') FROM contact_changes)
  )

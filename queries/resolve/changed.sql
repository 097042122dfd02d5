-- Step 3 of the shared resolution, incremental build: which records to re-resolve.
--   * every record with a staged row that is new, changed or gone since the last build:
--     the symmetric difference of proj_stage_sources and proj_stage_sources_last (the
--     last build's, kept by builder/stages/build.py's "remember" step). That is new and
--     re-ingested records,
--     rows and records deleted upstream (a record with no row left leaves the ledger and
--     the rejects in publish/incremental.sql), and records whose source SQL derived a new
--     identity from another table (a payment whose customer's email changed);
--   * records that point at a contact whose row changed since the last build (by
--     contact_id, or by the old or new email), since their resolution may change.
--     proj_contacts still holds the contacts of the previous build here.
-- Rows without a record id are not listed: they are re-resolved on every build.
CREATE OR REPLACE TABLE proj_stage_changed AS
WITH staged_changes AS (
  SELECT source_system, source_record_id FROM (
    SELECT * FROM proj_stage_sources
    EXCEPT DISTINCT
    SELECT * FROM proj_stage_sources_last
  )
  UNION DISTINCT
  SELECT source_system, source_record_id FROM (
    SELECT * FROM proj_stage_sources_last
    EXCEPT DISTINCT
    SELECT * FROM proj_stage_sources
  )
),
contact_changes AS (
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
SELECT source_system, source_record_id
FROM staged_changes
WHERE source_record_id IS NOT NULL
UNION DISTINCT
SELECT e.source_system, e.source_record_id
FROM proj_stage_events AS e
WHERE e.source_record_id IS NOT NULL
  AND (
    e.source_contact_id IN (SELECT contact_id FROM contact_changes)
    OR e.email_norm IN (
      SELECT NULLIF(TRANSLATE(TRIM(email, ' \t\n\r'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '')
      FROM contact_changes
    )
  )

-- Step 0 of the shared resolution: an empty table for the staged rows of every source.
-- Each of the profile's source files adds its rows (stage_source.sql); the staged shape
-- is documented in the README ("Profiles") and checked by builder/profiles.py.
CREATE OR REPLACE TABLE proj_stage_sources (
  source_system STRING,
  event_type STRING,
  source_record_id STRING,
  event_name STRING,
  event_source STRING,
  timestamp_raw STRING,
  created_at_raw STRING,
  source_contact_id STRING,
  source_email STRING,
  payload STRING,
  orphan_detail STRING
)

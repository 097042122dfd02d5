-- Step 0 of the shared resolution: the rows of every source file of the profile in one
-- table, each tagged with the source_system and event_type its header declares.
-- One SELECT per source file, UNION ALL'd: builder/engine/sql.py (render_sources) puts the file's
-- own SELECT where `source_rows` stands and its declarations where @source_system and
-- @event_type stand. The file's columns are read by name (the staged shape, README
-- "Profiles"), and the contract's rules for every source are applied here once: an empty
-- string is null, timestamps are trimmed, ids and text are read as STRING.
CREATE OR REPLACE TABLE proj_stage_sources AS
SELECT
  @source_system AS source_system,
  @event_type AS event_type,
  NULLIF(CAST(s.source_record_id AS STRING), '') AS source_record_id,
  NULLIF(CAST(s.event_name AS STRING), '') AS event_name,
  NULLIF(CAST(s.event_source AS STRING), '') AS event_source,
  NULLIF(TRIM(CAST(s.timestamp_raw AS STRING), ' \t\n\r'), '') AS timestamp_raw,
  NULLIF(TRIM(CAST(s.created_at_raw AS STRING), ' \t\n\r'), '') AS created_at_raw,
  NULLIF(CAST(s.source_contact_id AS STRING), '') AS source_contact_id,
  CAST(s.source_email AS STRING) AS source_email,
  s.payload AS payload,
  NULLIF(CAST(s.orphan_detail AS STRING), '') AS orphan_detail
FROM source_rows AS s

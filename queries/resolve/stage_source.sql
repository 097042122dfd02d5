-- Step 0, once per source file of the profile: its rows, tagged with the source_system and
-- event_type its header declares. `source_rows` stands for the file's own SELECT (put in
-- place by builder/sql.py render_source); its columns are read by name. The contract's
-- rules for every source are applied here once: an empty string is null, timestamps are
-- trimmed.
INSERT INTO proj_stage_sources (
  source_system, event_type, source_record_id, event_name, event_source, timestamp_raw,
  created_at_raw, source_contact_id, source_email, payload, orphan_detail
)
SELECT
  @source_system,
  @event_type,
  NULLIF(s.source_record_id, ''),
  NULLIF(s.event_name, ''),
  NULLIF(s.event_source, ''),
  NULLIF(TRIM(s.timestamp_raw, ' \t\n\r'), ''),
  NULLIF(TRIM(s.created_at_raw, ' \t\n\r'), ''),
  NULLIF(s.source_contact_id, ''),
  s.source_email,
  s.payload,
  NULLIF(s.orphan_detail, '')
FROM source_rows AS s

-- Step 0, once per source file of the profile: its rows, tagged with the source_system and
-- event_type its header declares. `source_rows` stands for the file's own SELECT (put in
-- place by builder/sql.py render_source); its columns are read by name.
INSERT INTO proj_stage_sources (
  source_system, event_type, source_record_id, event_name, event_source, timestamp_raw,
  created_at_raw, source_contact_id, source_email, payload, orphan_detail
)
SELECT
  @source_system,
  @event_type,
  s.source_record_id,
  s.event_name,
  s.event_source,
  s.timestamp_raw,
  s.created_at_raw,
  s.source_contact_id,
  s.source_email,
  s.payload,
  s.orphan_detail
FROM source_rows AS s

-- Per-source watermarks for the next incremental build: the latest created_at seen.
CREATE OR REPLACE TABLE proj_contact_events_watermarks AS
SELECT source_system, MAX(created_at_ts) AS watermark
FROM proj_stage_events
GROUP BY source_system

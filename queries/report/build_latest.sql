-- The build the projection tables belong to (written by publish/build_meta.sql).
SELECT build_id, built_at, warehouse, mode, previous_build_id, report
FROM proj_contact_events_build
LIMIT 1

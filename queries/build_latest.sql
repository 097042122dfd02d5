-- The build the projection tables belong to (written by build_meta.sql).
SELECT build_id, built_at, warehouse, report
FROM proj_contact_events_build
LIMIT 1

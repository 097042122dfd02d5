-- The staged rows of this build, kept for the next incremental build to compare with
-- (resolve/changed.sql): what changed upstream is what differs from them.
CREATE OR REPLACE TABLE proj_stage_sources_previous AS
SELECT * FROM proj_stage_sources

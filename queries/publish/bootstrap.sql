-- Tables a build reads before it writes them: empty on the very first build.
CREATE TABLE IF NOT EXISTS proj_contacts (
  contact_id STRING,
  email STRING,
  first_name STRING,
  last_name STRING,
  lifecycle_stage STRING,
  client_type_code STRING,
  updated_at STRING
);

-- The staged rows of the last build (kept by builder/stages/build.py "remember"), for an incremental build to
-- compare with; shaped like this build's (resolve/stage_sources.sql runs first).
CREATE TABLE IF NOT EXISTS proj_stage_sources_last AS
SELECT * FROM proj_stage_sources WHERE FALSE;

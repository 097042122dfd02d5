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

CREATE TABLE IF NOT EXISTS proj_stage_sources_previous (
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
);

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

CREATE TABLE IF NOT EXISTS proj_contact_events_watermarks (
  source_system STRING,
  watermark TIMESTAMP
);

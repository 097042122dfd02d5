-- Form submissions (measurement events) in the staged shape every source shares.
-- Identity: the respondent's email (subject_id). Timestamp: `timestamp`.
-- One row per canonical row; dedupe, parsing and resolution happen in resolve.sql.
CREATE OR REPLACE TABLE proj_stage_measurement_events AS
SELECT
  'measurement_events' AS source_system,
  NULLIF(measurement_event_id, '') AS source_record_id,
  'form' AS event_type,
  NULLIF(measure_id, '') AS event_name,
  'google_form' AS event_source,
  NULLIF(TRIM(`timestamp`, ' \t\n\r'), '') AS timestamp_raw,
  NULLIF(TRIM(created_at, ' \t\n\r'), '') AS created_at_raw,
  CAST(NULL AS STRING) AS source_contact_id,
  subject_id AS source_email,
  TO_JSON_STRING(STRUCT(
    NULLIF(binding_id, '') AS binding_id,
    NULLIF(binding_version, '') AS binding_version,
    NULLIF(form_id, '') AS form_id,
    NULLIF(form_submission_id, '') AS form_submission_id,
    NULLIF(measure_version, '') AS measure_version
  )) AS payload
FROM measurement_events

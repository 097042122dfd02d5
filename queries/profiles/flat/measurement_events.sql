-- contact-events: source
-- source_system: measurement_events
-- event_type: form
-- table: measurement_events (measurement_event_id, subject_id, measure_id, measure_version,
--   binding_id, binding_version, form_id, form_submission_id, timestamp, created_at)
--
-- Form submissions (measurement events), CONTRACT §2. Identity: the respondent's email
-- (subject_id). Timestamp: `timestamp`. One row per canonical row: dedupe, parsing and
-- contact resolution happen later, the same for every profile (queries/resolve/).
SELECT
  NULLIF(measurement_event_id, '') AS source_record_id,
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

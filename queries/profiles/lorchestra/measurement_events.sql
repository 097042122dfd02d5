-- contact-events: source
-- source_system: measurement_events
-- event_type: form
-- table: measurement_events (measurement_event_id, subject_id, event_type, event_subtype,
--   occurred_at TIMESTAMP, binding_id, binding_version, form_id, source_id,
--   canonical_object_id, processed_at TIMESTAMP)
--
-- Form submissions: lorchestra keeps them in their own table, `measurement_events`
-- (CONTRACT §7). event_name is the form's event_subtype (e.g. intake_01, followup);
-- identity is the respondent's email (subject_id). occurred_at and processed_at are
-- TIMESTAMP columns, written out as RFC 3339 for the shared parsing; for one record id
-- the row with the latest processed_at wins.
SELECT
  NULLIF(measurement_event_id, '') AS source_record_id,
  NULLIF(event_subtype, '') AS event_name,
  'google_form' AS event_source,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E6SZ', occurred_at, 'UTC') AS timestamp_raw,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E6SZ', processed_at, 'UTC') AS created_at_raw,
  CAST(NULL AS STRING) AS source_contact_id,
  subject_id AS source_email,
  TO_JSON_STRING(STRUCT(
    NULLIF(binding_id, '') AS binding_id,
    NULLIF(binding_version, '') AS binding_version,
    NULLIF(canonical_object_id, '') AS canonical_object_id,
    NULLIF(form_id, '') AS form_id,
    NULLIF(source_id, '') AS form_submission_id
  )) AS payload
FROM measurement_events

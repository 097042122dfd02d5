-- contact-events: source
-- source_system: practice.appointments
-- event_type: session
--
-- Appointments from the practice's booking system. `starts` and `created` are TIMESTAMP
-- columns here, so they are written out as RFC 3339 text (the staged shape takes text).
SELECT
  id AS source_record_id,
  state AS event_name,
  'booking' AS event_source,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E6SZ', starts, 'UTC') AS timestamp_raw,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E6SZ', created, 'UTC') AS created_at_raw,
  client_ref AS source_contact_id,
  CAST(NULL AS STRING) AS source_email,
  TO_JSON_STRING(STRUCT(state AS state)) AS payload
FROM appointments

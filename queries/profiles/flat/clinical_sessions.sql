-- contact-events: source
-- source_system: canonical.clinical_sessions
-- event_type: session
-- table: clinical_sessions (session_id, contact_id, status, session_num INT64, idem_key,
--   started_at, ended_at, created_at)
--
-- Therapy sessions, CONTRACT §2. Identity: contact_id only.
-- Timestamp: the first non-empty of started_at, ended_at, created_at (no fall-through
-- past a non-empty value that does not parse: that row becomes bad_timestamp).
SELECT
  NULLIF(session_id, '') AS source_record_id,
  NULLIF(status, '') AS event_name,
  'dataverse' AS event_source,
  COALESCE(
    NULLIF(TRIM(started_at, ' \t\n\r'), ''),
    NULLIF(TRIM(ended_at, ' \t\n\r'), ''),
    NULLIF(TRIM(created_at, ' \t\n\r'), '')
  ) AS timestamp_raw,
  NULLIF(TRIM(created_at, ' \t\n\r'), '') AS created_at_raw,
  NULLIF(contact_id, '') AS source_contact_id,
  CAST(NULL AS STRING) AS source_email,
  TO_JSON_STRING(STRUCT(
    NULLIF(idem_key, '') AS idem_key,
    session_num AS session_num
  )) AS payload
FROM clinical_sessions

-- contact-events: source
-- source_system: canonical.clinical_sessions
-- event_type: session
--
-- Therapy sessions: `canonical_objects` rows of the kind `clinical_session` (CONTRACT §7).
-- Timestamp: the first non-empty of $.started_at, $.created_at, $.updated_at (no
-- fall-through past a non-empty value that does not parse). Identity: $.contact_id.
-- Payload: session_num as an integer (a JSON integer, or a string of digits; anything
-- else is null) and the row's own idem_key.
SELECT
  NULLIF(JSON_VALUE(payload, '$.session_id'), '') AS source_record_id,
  NULLIF(JSON_VALUE(payload, '$.status'), '') AS event_name,
  'dataverse' AS event_source,
  COALESCE(
    NULLIF(TRIM(JSON_VALUE(payload, '$.started_at'), ' \t\n\r'), ''),
    NULLIF(TRIM(JSON_VALUE(payload, '$.created_at'), ' \t\n\r'), ''),
    NULLIF(TRIM(JSON_VALUE(payload, '$.updated_at'), ' \t\n\r'), '')
  ) AS timestamp_raw,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E6SZ', created_at, 'UTC') AS created_at_raw,
  NULLIF(JSON_VALUE(payload, '$.contact_id'), '') AS source_contact_id,
  CAST(NULL AS STRING) AS source_email,
  TO_JSON_STRING(STRUCT(
    NULLIF(idem_key, '') AS idem_key,
    IF(
      REGEXP_CONTAINS(JSON_VALUE(payload, '$.session_num'), r'^-?[0-9]{1,18}$'),
      CAST(JSON_VALUE(payload, '$.session_num') AS INT64),
      NULL
    ) AS session_num
  )) AS payload
FROM canonical_objects
WHERE REGEXP_EXTRACT(canonical_schema, r'^iglu:org\.canonical/([^/]+)/jsonschema/[^/]+$') = 'clinical_session'

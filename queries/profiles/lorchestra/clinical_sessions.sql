-- contact-events: source
-- source_system: canonical.clinical_sessions
-- event_type: session
--
-- Therapy sessions: `canonical_objects` rows of the kind `clinical_session` (CONTRACT §7),
-- in either payload shape, per row: where several paths are given, the first that has a
-- value is used (an empty string or a missing key has none).
-- Id: $.session_id (flat), else $.id (nested).
-- Timestamp: the first non-empty of $.started_at, $.actual_start, $.period.start,
-- $.scheduled_start, $.created_at, $.meta.createdAt, $.updated_at, $.meta.updatedAt (no
-- fall-through past a non-empty value that does not parse).
-- Identity: $.contact_id, else the id in $.subject.reference when it reads contact/<id>
-- (`contact/` in any case); a reference to anything else names no contact, and the
-- orphan's detail says so.
-- Payload: session_num as an integer ($.session_num, else $.sessionNumber: a JSON
-- integer, or a string of digits; anything else is null) and the row's own idem_key.
WITH sessions AS (
  SELECT
    *,
    COALESCE(
      NULLIF(JSON_VALUE(payload, '$.session_num'), ''),
      NULLIF(JSON_VALUE(payload, '$.sessionNumber'), '')
    ) AS session_num_text,
    NULLIF(JSON_VALUE(payload, '$.contact_id'), '') AS contact_id,
    NULLIF(JSON_VALUE(payload, '$.subject.reference'), '') AS reference
  FROM canonical_objects
  WHERE REGEXP_EXTRACT(canonical_schema, r'^iglu:org\.canonical/([^/]+)/jsonschema/[^/]+$') = 'clinical_session'
)
SELECT
  COALESCE(
    NULLIF(JSON_VALUE(payload, '$.session_id'), ''),
    NULLIF(JSON_VALUE(payload, '$.id'), '')
  ) AS source_record_id,
  NULLIF(JSON_VALUE(payload, '$.status'), '') AS event_name,
  'dataverse' AS event_source,
  COALESCE(
    NULLIF(TRIM(JSON_VALUE(payload, '$.started_at'), ' \t\n\r'), ''),
    NULLIF(TRIM(JSON_VALUE(payload, '$.actual_start'), ' \t\n\r'), ''),
    NULLIF(TRIM(JSON_VALUE(payload, '$.period.start'), ' \t\n\r'), ''),
    NULLIF(TRIM(JSON_VALUE(payload, '$.scheduled_start'), ' \t\n\r'), ''),
    NULLIF(TRIM(JSON_VALUE(payload, '$.created_at'), ' \t\n\r'), ''),
    NULLIF(TRIM(JSON_VALUE(payload, '$.meta.createdAt'), ' \t\n\r'), ''),
    NULLIF(TRIM(JSON_VALUE(payload, '$.updated_at'), ' \t\n\r'), ''),
    NULLIF(TRIM(JSON_VALUE(payload, '$.meta.updatedAt'), ' \t\n\r'), '')
  ) AS timestamp_raw,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E6SZ', created_at, 'UTC') AS created_at_raw,
  COALESCE(
    contact_id,
    REGEXP_EXTRACT(reference, r'^[Cc][Oo][Nn][Tt][Aa][Cc][Tt]/(.+)$')
  ) AS source_contact_id,
  CAST(NULL AS STRING) AS source_email,
  IF(
    contact_id IS NULL AND NOT REGEXP_CONTAINS(reference, r'^[Cc][Oo][Nn][Tt][Aa][Cc][Tt]/(.+)$'),
    CONCAT('session -> contact: subject.reference ', reference, ' is not contact/<id>'),
    NULL
  ) AS orphan_detail,
  TO_JSON_STRING(STRUCT(
    NULLIF(idem_key, '') AS idem_key,
    IF(
      REGEXP_CONTAINS(session_num_text, r'^-?[0-9]{1,18}$'),
      CAST(session_num_text AS INT64),
      NULL
    ) AS session_num
  )) AS payload
FROM sessions

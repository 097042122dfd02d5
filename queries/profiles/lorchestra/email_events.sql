-- contact-events: source
-- source_system: canonical.email_events
-- event_type: email
--
-- Emails (Gmail, Exchange): `canonical_objects` rows of the kind `email_jmap_lite`
-- (CONTRACT §7), read as CONTRACT §2 reads email_events: from_email <- $.from[0].email,
-- the first recipient <- $.to[0].email; outbound when the sender is one of the practice's
-- own addresses (@practice_emails, already normalised; the sender normalised by the
-- one email rule, @casefold_from / @casefold_to), inbound otherwise. event_source is
-- the row's source_system; the timestamp is $.sentAt, else $.receivedAt.
-- Payload values keep their JSON types: each is the JSON text of the value
-- (TO_JSON_STRING(JSON_QUERY(...))), an empty string or a missing key reads null.
WITH emails AS (
  SELECT
    payload,
    created_at,
    source_system AS provider,
    JSON_VALUE(payload, '$.from[0].email') AS from_email,
    JSON_VALUE(payload, '$.to[0].email') AS first_recipient
  FROM canonical_objects
  WHERE REGEXP_EXTRACT(canonical_schema, r'^iglu:org\.canonical/([^/]+)/jsonschema/[^/]+$') = 'email_jmap_lite'
),
directed AS (
  SELECT
    *,
    IF(
      NULLIF(TRANSLATE(TRIM(from_email, ' \t\n\r'), @casefold_from, @casefold_to), '')
        IN UNNEST(SPLIT(@practice_emails, ',')),
      'outbound',
      'inbound'
    ) AS direction
  FROM emails
)
SELECT
  NULLIF(JSON_VALUE(payload, '$.id'), '') AS source_record_id,
  CONCAT(
    direction, ': ', COALESCE(SUBSTR(NULLIF(JSON_VALUE(payload, '$.subject'), ''), 1, 50), '(no subject)')
  ) AS event_name,
  NULLIF(provider, '') AS event_source,
  COALESCE(
    NULLIF(TRIM(JSON_VALUE(payload, '$.sentAt'), ' \t\n\r'), ''),
    NULLIF(TRIM(JSON_VALUE(payload, '$.receivedAt'), ' \t\n\r'), '')
  ) AS timestamp_raw,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E6SZ', created_at, 'UTC') AS created_at_raw,
  CAST(NULL AS STRING) AS source_contact_id,
  IF(direction = 'outbound', first_recipient, from_email) AS source_email,
  CONCAT(
    '{"direction":', TO_JSON_STRING(direction),
    ',"preview":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(payload, '$.preview')), '""'), 'null'),
    ',"subject":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(payload, '$.subject')), '""'), 'null'),
    ',"thread_id":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(payload, '$.threadId')), '""'), 'null'),
    '}'
  ) AS payload
FROM directed

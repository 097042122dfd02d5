-- contact-events: source
-- source_system: canonical.email_events
-- event_type: email
-- table: email_events (email_event_id, provider, from_email, to_emails ARRAY<STRING>,
--   subject, thread_id, labels ARRAY<STRING>, sent_at, created_at)
--
-- Emails (Gmail / Outlook), CONTRACT §2.
-- Direction: outbound when from_email is one of the practice's own addresses
-- (@practice_emails: one comma-separated string, already normalised), inbound otherwise.
-- Emails are normalised as everywhere (README "Emails"): trimmed, A-Z lower-cased.
-- Identity: the first recipient when outbound, the sender when inbound.
-- event_name: 'outbound: ' / 'inbound: ' + the first 50 characters of the subject.
WITH directed AS (
  SELECT
    *,
    -- The first element of to_emails. (Written as a subquery, not to_emails[SAFE_OFFSET(0)]:
    -- same meaning, but the BigQuery emulator used in tests drops a subscript that shares
    -- a SELECT with a || concatenation.)
    (SELECT r FROM UNNEST(to_emails) AS r WITH OFFSET AS pos ORDER BY pos LIMIT 1)
      AS first_recipient,
    IF(
      NULLIF(TRANSLATE(TRIM(from_email, ' \t\n\r'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '')
        IN UNNEST(SPLIT(@practice_emails, ',')),
      'outbound',
      'inbound'
    ) AS direction
  FROM email_events
)
SELECT
  NULLIF(email_event_id, '') AS source_record_id,
  CONCAT(direction, ': ', COALESCE(SUBSTR(NULLIF(subject, ''), 1, 50), '(no subject)'))
    AS event_name,
  NULLIF(provider, '') AS event_source,
  NULLIF(TRIM(sent_at, ' \t\n\r'), '') AS timestamp_raw,
  NULLIF(TRIM(created_at, ' \t\n\r'), '') AS created_at_raw,
  CAST(NULL AS STRING) AS source_contact_id,
  IF(direction = 'outbound', first_recipient, from_email) AS source_email,
  TO_JSON_STRING(STRUCT(
    direction AS direction,
    labels AS labels,
    NULLIF(subject, '') AS subject,
    NULLIF(thread_id, '') AS thread_id
  )) AS payload
FROM directed

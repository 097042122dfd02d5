-- contact-events: source
-- source_system: canonical.messages
-- event_type: message
-- table: messages (message_id, channel, direction, contact_id, contact_email, body_preview,
--   sent_at, created_at)
--
-- SMS / WhatsApp messages (respond.io), CONTRACT §2. Identity: contact_id, else
-- contact_email. event_name: '<direction>: <channel>', where a direction other than
-- inbound/outbound (trimmed, A-Z lower-cased) or none reads 'unknown', as does no channel.
SELECT
  NULLIF(message_id, '') AS source_record_id,
  CONCAT(
    CASE TRANSLATE(TRIM(direction, ' \t\n\r'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
      WHEN 'outbound' THEN 'outbound'
      WHEN 'inbound' THEN 'inbound'
      ELSE 'unknown'
    END,
    ': ',
    COALESCE(NULLIF(channel, ''), 'unknown')
  ) AS event_name,
  'respond_io' AS event_source,
  NULLIF(TRIM(sent_at, ' \t\n\r'), '') AS timestamp_raw,
  NULLIF(TRIM(created_at, ' \t\n\r'), '') AS created_at_raw,
  NULLIF(contact_id, '') AS source_contact_id,
  contact_email AS source_email,
  TO_JSON_STRING(STRUCT(
    NULLIF(body_preview, '') AS body_preview,
    NULLIF(channel, '') AS channel,
    NULLIF(direction, '') AS direction
  )) AS payload
FROM messages

-- contact-events: source
-- source_system: practice.text_messages
-- event_type: message
--
-- Text messages, identified by the client's email (normalised by the shared step).
SELECT
  id AS source_record_id,
  CONCAT(IF(outgoing, 'outbound', 'inbound'), ': sms') AS event_name,
  'sms_gateway' AS event_source,
  sent AS timestamp_raw,
  logged_at AS created_at_raw,
  CAST(NULL AS STRING) AS source_contact_id,
  client_email AS source_email,
  TO_JSON_STRING(STRUCT(body AS body, outgoing AS outgoing)) AS payload
FROM text_messages

-- contact-events: source
-- source_system: practice.reminders
-- event_type: reminder
--
-- Reminders the practice's automation sent: an event type of this practice's own.
SELECT
  id AS source_record_id,
  kind AS event_name,
  'automation' AS event_source,
  sent_at AS timestamp_raw,
  created AS created_at_raw,
  client_ref AS source_contact_id,
  CAST(NULL AS STRING) AS source_email,
  TO_JSON_STRING(STRUCT(kind AS kind)) AS payload
FROM reminders

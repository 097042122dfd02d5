-- contact-events: source
-- source_system: canonical.system_events
-- event_type: system
-- table: system_events (system_event_id, contact_id, contact_email, event_name, actor,
--   occurred_at, created_at)
--
-- Automation events (life_cli: reminders sent, status changes), CONTRACT §2.
-- Identity: contact_id, else contact_email.
SELECT
  NULLIF(system_event_id, '') AS source_record_id,
  NULLIF(event_name, '') AS event_name,
  'life_cli' AS event_source,
  NULLIF(TRIM(occurred_at, ' \t\n\r'), '') AS timestamp_raw,
  NULLIF(TRIM(created_at, ' \t\n\r'), '') AS created_at_raw,
  NULLIF(contact_id, '') AS source_contact_id,
  contact_email AS source_email,
  TO_JSON_STRING(STRUCT(
    NULLIF(actor, '') AS actor
  )) AS payload
FROM system_events

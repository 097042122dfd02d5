-- Everything that happened with one client, newest first.
SELECT
  e.event_timestamp,
  e.event_type,
  e.event_name,
  e.event_source,
  e.source_system,
  e.source_record_id,
  e.payload
FROM contact_events AS e
WHERE e.contact_id = :contact_id
ORDER BY e.event_timestamp DESC, e.source_system, e.source_record_id;

-- contact-events: inputs
--
-- For the build report: rows in each canonical table this profile reads.
SELECT 'contacts' AS input, COUNT(*) AS row_count, TRUE AS used FROM contacts
UNION ALL SELECT 'measurement_events', COUNT(*), TRUE FROM measurement_events
UNION ALL SELECT 'clinical_sessions', COUNT(*), TRUE FROM clinical_sessions
UNION ALL SELECT 'email_events', COUNT(*), TRUE FROM email_events
UNION ALL SELECT 'messages', COUNT(*), TRUE FROM messages
UNION ALL SELECT 'system_events', COUNT(*), TRUE FROM system_events

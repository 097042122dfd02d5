-- How each client has been in touch: events per type, in total and over the last 30 days.
SELECT
  c.contact_id,
  c.first_name,
  c.last_name,
  e.event_type,
  COUNT(*) AS events,
  SUM(CASE WHEN e.event_timestamp >= DATETIME('now', '-30 days') THEN 1 ELSE 0 END)
    AS events_last_30_days,
  MAX(e.event_timestamp) AS last_event_at
FROM contacts AS c
JOIN contact_events AS e
  ON e.contact_id = c.contact_id
GROUP BY c.contact_id, c.first_name, c.last_name, e.event_type
ORDER BY c.contact_id, e.event_type;

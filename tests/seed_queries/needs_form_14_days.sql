-- Active clients who have not filled in a form for more than 14 days, or never have.
-- Oldest (and never) first, so the list reads as a to-do list.
SELECT
  c.contact_id,
  c.email,
  c.first_name,
  c.last_name,
  MAX(e.event_timestamp) AS last_form_at
FROM contacts AS c
LEFT JOIN contact_events AS e
  ON e.contact_id = c.contact_id
  AND e.event_type = 'form'
WHERE c.lifecycle_stage = 'active'
GROUP BY c.contact_id, c.email, c.first_name, c.last_name
HAVING MAX(e.event_timestamp) IS NULL
  OR MAX(e.event_timestamp) < DATETIME('now', '-14 days')
ORDER BY last_form_at IS NOT NULL, last_form_at, c.contact_id;

-- GET /contacts/{contact_id}/summary: the channel-summary row of one contact.
-- No row when the contact does not exist (the API answers 404).
-- Events after :as_of do not count.
--
-- Parameters:
--   :contact_id  the contact
--   :as_of       upper bound, inclusive, mirror text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)
SELECT
  c.contact_id,
  (
    SELECT COUNT(*) FROM contact_events AS e
    WHERE e.contact_id = c.contact_id AND e.event_type = 'form'
      AND e.event_timestamp <= :as_of
  ) AS form,
  (
    SELECT COUNT(*) FROM contact_events AS e
    WHERE e.contact_id = c.contact_id AND e.event_type = 'session'
      AND e.event_timestamp <= :as_of
  ) AS session,
  (
    SELECT COUNT(*) FROM contact_events AS e
    WHERE e.contact_id = c.contact_id AND e.event_type = 'email'
      AND e.event_timestamp <= :as_of
  ) AS email,
  (
    SELECT COUNT(*) FROM contact_events AS e
    WHERE e.contact_id = c.contact_id AND e.event_type = 'message'
      AND e.event_timestamp <= :as_of
  ) AS message,
  (
    SELECT COUNT(*) FROM contact_events AS e
    WHERE e.contact_id = c.contact_id AND e.event_type = 'system'
      AND e.event_timestamp <= :as_of
  ) AS system,
  (
    SELECT MAX(e.event_timestamp) FROM contact_events AS e
    WHERE e.contact_id = c.contact_id AND e.event_timestamp <= :as_of
  ) AS last_activity_at
FROM contacts AS c
WHERE c.contact_id = :contact_id

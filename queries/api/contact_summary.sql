-- GET /contacts/{contact_id}/summary: the channel-summary row of one contact.
-- No row when the contact does not exist (the API answers 404).
-- Events after :as_of do not count. `counts` as in channel_summary.sql: a JSON object
-- event_type -> count of the types the contact has; the API fills in the others with 0.
--
-- Parameters:
--   :contact_id  the contact
--   :as_of       upper bound, inclusive, mirror text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)
SELECT
  c.contact_id,
  (
    SELECT json_group_object(per_type.event_type, per_type.n)
    FROM (
      SELECT e.event_type, COUNT(*) AS n
      FROM contact_events AS e
      WHERE e.contact_id = c.contact_id AND e.event_timestamp <= :as_of
      GROUP BY e.event_type
    ) AS per_type
  ) AS counts,
  (
    SELECT MAX(e.event_timestamp) FROM contact_events AS e
    WHERE e.contact_id = c.contact_id AND e.event_timestamp <= :as_of
  ) AS last_activity_at
FROM contacts AS c
WHERE c.contact_id = :contact_id

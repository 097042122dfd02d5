-- GET /contacts/gone-quiet (no event_type), the order: contacts with at least one event
-- whose latest event is strictly before :cutoff. Events after :as_of do not count.
-- Order: last_event_at, then contact_id. gone_quiet_items.sql turns a page of these rows
-- into response items (with the latest event's type and name); gone_quiet_by_type.sql is
-- the same query restricted to one event_type.
--
-- Result: contact_id, last_event_at: the answer's order and sort key, no more. The API
-- runs this once per answer (route, filters, as_of, build) without a page limit and keeps
-- it for the cursor's life (app/canned/kept.py): only the items of the pages asked for are
-- ever built.
--
-- Parameters (timestamps are mirror text 'YYYY-MM-DD HH:MM:SS.ffffff', UTC):
--   :as_of            upper bound, inclusive
--   :cutoff           :as_of - days (days >= 0, so :cutoff <= :as_of)
--   :lifecycle_stage  contacts.lifecycle_stage (NULL = any)
--   :after_at         cursor: last_event_at of the previous page's last row
--   :after_id         cursor: contact_id of the previous page's last row (NULL = first page)
--   :limit            rows to return (-1: all)
--
-- Plan: "no event in [:cutoff, :as_of]" is a NOT EXISTS probe per contact, and the latest
-- event before :cutoff a backwards probe, both index-only on contact_events_contact_time.
-- (A LEFT JOIN to a MAX() per contact measured 2-3x slower.)
WITH quiet AS MATERIALIZED (
  SELECT
    c.contact_id,
    (
      SELECT e.event_timestamp
      FROM contact_events AS e
      WHERE e.contact_id = c.contact_id
        AND e.event_timestamp < :cutoff
      ORDER BY e.event_timestamp DESC
      LIMIT 1
    ) AS last_event_at
  FROM contacts AS c
  WHERE (:lifecycle_stage IS NULL OR c.lifecycle_stage = :lifecycle_stage)
    AND NOT EXISTS (
      SELECT 1
      FROM contact_events AS e
      WHERE e.contact_id = c.contact_id
        AND e.event_timestamp >= :cutoff
        AND e.event_timestamp <= :as_of
    )
)
SELECT contact_id, last_event_at
FROM quiet
WHERE last_event_at IS NOT NULL
  AND (:after_id IS NULL OR (last_event_at, contact_id) > (:after_at, :after_id))
ORDER BY last_event_at, contact_id
LIMIT :limit

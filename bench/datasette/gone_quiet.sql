-- bench only: GET /contacts/gone-quiet as ONE statement, for Datasette (which serves one
-- canned query per request) and as a reference: queries/api/gone_quiet.sql (the order) and
-- queries/api/gone_quiet_items.sql (the items) joined (the form they had in
-- commit 25098a8). Its `limit` is -1 here: the whole answer.
--
-- GET /contacts/gone-quiet (no event_type): contacts with at least one event whose latest
-- event is strictly before :cutoff. Events after :as_of do not count.
-- Order: last_event_at, then contact_id. The latest event is the first in event order
-- (event_timestamp DESC, source_system, source_record_id). `email` as in the items file: trimmed, ASCII letters lower-cased.
-- Result: the cursor's sort key columns, then `item`, the response item as JSON text
-- built here (timestamps as RFC 3339 UTC with `Z`: the mirror's one text form with its
-- space made a `T`); the API joins the items of a page without touching them.
-- gone_quiet_by_type.sql is the same query restricted to one event_type.
--
-- Parameters (timestamps are mirror text 'YYYY-MM-DD HH:MM:SS.ffffff', UTC):
--   :as_of            upper bound, inclusive
--   :cutoff           :as_of - days (days >= 0, so :cutoff <= :as_of)
--   :lifecycle_stage  contacts.lifecycle_stage (NULL = any)
--   :after_at         cursor: last_event_at of the previous page's last row
--   :after_id         cursor: contact_id of the previous page's last row (NULL = first page)
--   :limit            rows to return (page size + 1, to tell whether there is a next page)
--
-- Plan: "no event in [:cutoff, :as_of]" is a NOT EXISTS probe per contact, and the latest
-- event before :cutoff a backwards probe, both index-only on contact_events_contact_time.
-- (A LEFT JOIN to a MAX() per contact measured 2-3x slower.) Only the page's rows look up
-- the latest event's type and name.
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
),
page AS MATERIALIZED (
  SELECT contact_id, last_event_at
  FROM quiet
  WHERE last_event_at IS NOT NULL
    AND (:after_id IS NULL OR (last_event_at, contact_id) > (:after_at, :after_id))
  ORDER BY last_event_at, contact_id
  LIMIT :limit
)
SELECT
  p.contact_id,
  p.last_event_at,
  json_object(
    'contact_id', p.contact_id,
    'email', NULLIF(lower(trim(c.email, char(32, 9, 10, 13))), ''),
    'first_name', c.first_name,
    'last_name', c.last_name,
    'last_event_at', replace(p.last_event_at, ' ', 'T') || 'Z',
    'last_event_type', latest.event_type,
    'last_event_name', latest.event_name
  ) AS item
FROM page AS p
JOIN contacts AS c ON c.contact_id = p.contact_id
JOIN contact_events AS latest ON latest.rowid = (
  SELECT e.rowid
  FROM contact_events AS e
  WHERE e.contact_id = p.contact_id
    AND e.event_timestamp = p.last_event_at
  ORDER BY e.source_system, e.source_record_id
  LIMIT 1
)
ORDER BY p.last_event_at, p.contact_id

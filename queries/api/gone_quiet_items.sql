-- GET /contacts/gone-quiet, the items of one page: the response item (JSON text) of each
-- row gone_quiet.sql or gone_quiet_by_type.sql returned, in the same order, with the
-- contact's latest event (of :event_type, if given): the first in event order
-- (event_timestamp DESC, source_system, source_record_id) at last_event_at.
--
-- The contact's item (views.sql) with last_event_at, RFC 3339 UTC with `Z` (the mirror's
-- one text form, its space made a `T`), and that event's type and name.
--
-- Parameters:
--   :rows        the page's rows, in order, as a JSON array of [contact_id, last_event_at]
--   :event_type  the event type the order was restricted to (NULL = any)
--
-- Plan: per row a contacts_id probe and a probe of contact_events_contact_time at the
-- one (contact_id, last_event_at), then the event row itself by rowid.
WITH page AS MATERIALIZED (
  SELECT
    rows.key AS position,
    json_extract(rows.value, '$[0]') AS contact_id,
    json_extract(rows.value, '$[1]') AS last_event_at
  FROM json_each(:rows) AS rows
)
SELECT
  json_set(
    c.item,
    '$.last_event_at', replace(p.last_event_at, ' ', 'T') || 'Z',
    '$.last_event_type', latest.event_type,
    '$.last_event_name', latest.event_name
  ) AS item
FROM page AS p
JOIN contact_items AS c ON c.contact_id = p.contact_id
JOIN contact_events AS latest ON latest.rowid = (
  SELECT e.rowid
  FROM contact_events AS e
  WHERE e.contact_id = p.contact_id
    AND e.event_timestamp = p.last_event_at
    AND (:event_type IS NULL OR e.event_type = :event_type)
  ORDER BY e.source_system, e.source_record_id
  LIMIT 1
)
ORDER BY p.position

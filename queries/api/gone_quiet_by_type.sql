-- GET /contacts/gone-quiet?event_type=...: contacts with at least one event of
-- :event_type whose latest such event is strictly before :cutoff. Events after :as_of do
-- not count. Order: last_event_at, then contact_id. The latest event is the first in event
-- order (event_timestamp DESC, source_system, source_record_id).
--
-- A separate file rather than `(:event_type IS NULL OR e.event_type = :event_type)` in
-- gone_quiet.sql: with the type as a plain equality every probe is index-only on
-- contact_events_contact_type_time; the optional form cannot use that index and measured
-- ~3x slower (a table lookup per candidate row).
--
-- Parameters (timestamps are mirror text 'YYYY-MM-DD HH:MM:SS.ffffff', UTC):
--   :as_of            upper bound, inclusive
--   :cutoff           :as_of - days (days >= 0, so :cutoff <= :as_of)
--   :event_type       one of form, session, email, message, system
--   :lifecycle_stage  contacts.lifecycle_stage (NULL = any)
--   :after_at         cursor: last_event_at of the previous page's last row
--   :after_id         cursor: contact_id of the previous page's last row (NULL = first page)
--   :limit            rows to return (page size + 1, to tell whether there is a next page)
WITH quiet AS MATERIALIZED (
  SELECT
    c.contact_id,
    (
      SELECT e.event_timestamp
      FROM contact_events AS e
      WHERE e.contact_id = c.contact_id
        AND e.event_type = :event_type
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
        AND e.event_type = :event_type
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
    'email', normalized_email(c.email),
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
    AND e.event_type = :event_type
    AND e.event_timestamp = p.last_event_at
  ORDER BY e.source_system, e.source_record_id
  LIMIT 1
)
ORDER BY p.last_event_at, p.contact_id

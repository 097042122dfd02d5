-- GET /contacts/no-session ("who has not been seen?"): contacts whose latest `session`
-- event is strictly before :cutoff, or who have none. Events after :as_of do not count.
-- Order: last_session_at (nulls first, as ''), then contact_id.
--
-- Result: contact_id, last_session_at ('' for none): the answer's order and sort key;
-- then `item`, the response item as JSON text: the contact's item (views.sql) with
-- last_session_at, RFC 3339 UTC with `Z`, null for none. The API runs this once per
-- answer (route, filters, as_of, build) without a page limit and keeps its rows for the
-- cursor's life (app/canned/kept.py); a page is a slice of them.
--
-- Parameters (timestamps are mirror text 'YYYY-MM-DD HH:MM:SS.ffffff', UTC):
--   :as_of            upper bound, inclusive
--   :cutoff           :as_of - days; "before the cut-off" = strictly earlier
--   :lifecycle_stage  contacts.lifecycle_stage (NULL = any)
--   :after_at         cursor: last_session_at of the previous page's last row ('' for none)
--   :after_id         cursor: contact_id of the previous page's last row (NULL = first page)
--   :limit            rows to return (-1: all)
--
-- Plan: one backwards probe per contact on the covering index
-- contact_events_contact_type_time (contact_id, event_type, event_timestamp, ...), as in
-- needs_form.sql, then a contacts_id probe per row that is kept.
WITH last_session AS MATERIALIZED (
  SELECT
    c.contact_id,
    COALESCE(
      (
        SELECT e.event_timestamp
        FROM contact_events AS e
        WHERE e.contact_id = c.contact_id
          AND e.event_type = 'session'
          AND e.event_timestamp <= :as_of
        ORDER BY e.event_timestamp DESC
        LIMIT 1
      ),
      ''
    ) AS last_session_at
  FROM contacts AS c
  WHERE (:lifecycle_stage IS NULL OR c.lifecycle_stage = :lifecycle_stage)
)
SELECT
  s.contact_id,
  s.last_session_at,
  json_set(
    c.item, '$.last_session_at', replace(NULLIF(s.last_session_at, ''), ' ', 'T') || 'Z'
  ) AS item
FROM last_session AS s
JOIN contact_items AS c ON c.contact_id = s.contact_id
WHERE s.last_session_at < :cutoff
  AND (:after_id IS NULL OR (s.last_session_at, s.contact_id) > (:after_at, :after_id))
ORDER BY s.last_session_at, s.contact_id
LIMIT :limit

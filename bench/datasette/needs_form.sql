-- bench only: GET /contacts/needs-form as ONE statement, for Datasette (which serves one
-- canned query per request) and as a reference: queries/api/needs_form.sql (the order) and
-- queries/api/needs_form_items.sql (the items) joined (the form they had in
-- commit 25098a8). Its `limit` is -1 here: the whole answer.
--
-- GET /contacts/needs-form: contacts whose latest `form` event (with event_name = :measure,
-- if given) is strictly before :cutoff, or who have no such event at all.
-- Events after :as_of do not count. Order: last_form_at (nulls first), then contact_id.
-- `email` as in the items file: trimmed, ASCII letters lower-cased.
-- Result: the cursor's sort key columns, then `item`, the response item as JSON text
-- built here (timestamps as RFC 3339 UTC with `Z`: the mirror's one text form with its
-- space made a `T`); the API joins the items of a page without touching them.
--
-- Parameters (timestamps are mirror text 'YYYY-MM-DD HH:MM:SS.ffffff', UTC):
--   :as_of            upper bound, inclusive
--   :cutoff           :as_of - days; "before the cut-off" = strictly earlier
--   :measure          event_name of the form, e.g. 'phq9' (NULL = any form)
--   :lifecycle_stage  contacts.lifecycle_stage (NULL = any)
--   :after_at         cursor: last_form_at of the previous page's last row ('' for none)
--   :after_id         cursor: contact_id of the previous page's last row (NULL = first page)
--   :limit            rows to return (page size + 1, to tell whether there is a next page)
--
-- Plan: one backwards probe per contact on the covering index
-- contact_events_contact_type_time (contact_id, event_type, event_timestamp, event_name).
-- The CTEs are MATERIALIZED so the probe runs once per contact (SQLite would otherwise
-- inline it into every clause), and only the (contact_id, last_form_at) pairs are sorted;
-- names are joined for the page alone. A missing form sorts as '' (before any timestamp).
WITH last_form AS MATERIALIZED (
  SELECT
    c.contact_id,
    COALESCE(
      (
        SELECT e.event_timestamp
        FROM contact_events AS e
        WHERE e.contact_id = c.contact_id
          AND e.event_type = 'form'
          AND e.event_timestamp <= :as_of
          AND (:measure IS NULL OR e.event_name = :measure)
        ORDER BY e.event_timestamp DESC
        LIMIT 1
      ),
      ''
    ) AS last_form_at
  FROM contacts AS c
  WHERE (:lifecycle_stage IS NULL OR c.lifecycle_stage = :lifecycle_stage)
),
page AS MATERIALIZED (
  SELECT contact_id, last_form_at
  FROM last_form
  WHERE last_form_at < :cutoff
    AND (:after_id IS NULL OR (last_form_at, contact_id) > (:after_at, :after_id))
  ORDER BY last_form_at, contact_id
  LIMIT :limit
)
SELECT
  p.contact_id,
  p.last_form_at,
  json_object(
    'contact_id', p.contact_id,
    'email', NULLIF(lower(trim(c.email, char(32, 9, 10, 13))), ''),
    'first_name', c.first_name,
    'last_name', c.last_name,
    'last_form_at', replace(NULLIF(p.last_form_at, ''), ' ', 'T') || 'Z'
  ) AS item
FROM page AS p
JOIN contacts AS c ON c.contact_id = p.contact_id
ORDER BY p.last_form_at, p.contact_id

-- GET /contacts/needs-form, the order: contacts whose latest `form` event (with
-- event_name = :measure, if given) is strictly before :cutoff, or who have no such event
-- at all. Events after :as_of do not count. Order: last_form_at (nulls first, as ''),
-- then contact_id. needs_form_items.sql turns a page of these rows into response items.
--
-- Result: contact_id, last_form_at ('' for none): the answer's order and sort key, no
-- more. The API runs this once per answer (route, filters, as_of, build) without a page
-- limit and keeps it for the cursor's life (app/canned/kept.py): only the items of the pages
-- asked for are ever built.
--
-- Parameters (timestamps are mirror text 'YYYY-MM-DD HH:MM:SS.ffffff', UTC):
--   :as_of            upper bound, inclusive
--   :cutoff           :as_of - days; "before the cut-off" = strictly earlier
--   :measure          event_name of the form, e.g. 'phq9' (NULL = any form)
--   :lifecycle_stage  contacts.lifecycle_stage (NULL = any)
--   :after_at         cursor: last_form_at of the previous page's last row ('' for none)
--   :after_id         cursor: contact_id of the previous page's last row (NULL = first page)
--   :limit            rows to return (-1: all)
--
-- Plan: one backwards probe per contact on the covering index
-- contact_events_contact_type_time (contact_id, event_type, event_timestamp, event_name).
-- The CTE is MATERIALIZED so the probe runs once per contact (SQLite would otherwise
-- inline it into every clause), and only the (contact_id, last_form_at) pairs are sorted.
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
)
SELECT contact_id, last_form_at
FROM last_form
WHERE last_form_at < :cutoff
  AND (:after_id IS NULL OR (last_form_at, contact_id) > (:after_at, :after_id))
ORDER BY last_form_at, contact_id
LIMIT :limit

-- GET /events (no contact_id): ledger rows matching every given filter, orphans (NULL
-- contact_id) included, newest first, ties by source_system then source_record_id
-- ascending. Keyset page after the cursor's row. With a contact_id the API runs
-- timeline.sql instead (an equality on the contact index beats this time-ordered scan),
-- with an event_name events_by_name.sql.
--
-- Result: the sort key (event_timestamp, source_system, source_record_id), then `item`,
-- the response item as JSON text (views.sql, the one place it is written). The API
-- joins a page's items without touching them.
--
-- Parameters (timestamps are mirror text 'YYYY-MM-DD HH:MM:SS.ffffff', UTC):
--   :as_of            events after it do not count (inclusive bound)
--   :since            inclusive lower bound (NULL = none)
--   :until            exclusive upper bound (NULL = none)
--   :event_type, :event_name, :event_source
--                     equality filters (NULL = any)
--   :after_ts, :after_system, :after_record_id
--                     cursor: sort key of the previous page's last row (NULL = first page)
--   :limit            rows to return (page size + 1, to tell whether there is a next page)
--
-- Plan: a backwards range scan of contact_events_time (event_timestamp) between the
-- bounds, so unfiltered pages are sub-millisecond at any depth. A rare event_name without
-- a time window scans until it fills the page (the API's query time limit applies).
SELECT e.event_timestamp, e.source_system, e.source_record_id, e.item
FROM event_items AS e
WHERE e.event_timestamp <= MIN(:as_of, COALESCE(:after_ts, :as_of))
  AND e.event_timestamp >= COALESCE(:since, '')
  AND e.event_timestamp < COALESCE(:until, '9999-12-31 23:59:59.999999~')
  AND (:event_type IS NULL OR e.event_type = :event_type)
  AND (:event_name IS NULL OR e.event_name = :event_name)
  AND (:event_source IS NULL OR e.event_source = :event_source)
  AND (
    :after_ts IS NULL
    OR e.event_timestamp < :after_ts
    OR (e.source_system, e.source_record_id) > (:after_system, :after_record_id)
  )
ORDER BY e.event_timestamp DESC, e.source_system ASC, e.source_record_id ASC
LIMIT :limit

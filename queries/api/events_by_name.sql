-- GET /events?event_name=... (no contact_id): "did we send that reminder?" across the
-- practice. The same query as events.sql with event_name as a plain equality, so that the
-- index contact_events_name_time (event_name, event_timestamp) serves it: measured on 1M
-- events, a rare or absent name drops from ~1.3 s (walking the whole time index) to
-- ~0.1 ms.
-- Newest first, ties by source_system then source_record_id ascending; orphans included.
--
-- Result: the sort key (event_timestamp, source_system, source_record_id), then `item`,
-- the response item as JSON text (views.sql, the one place it is written). The API
-- joins a page's items without touching them.
--
-- Parameters (timestamps are mirror text 'YYYY-MM-DD HH:MM:SS.ffffff', UTC):
--   :event_name       exact event_name (required)
--   :as_of            events after it do not count (inclusive bound)
--   :since            inclusive lower bound (NULL = none)
--   :until            exclusive upper bound (NULL = none)
--   :event_type, :event_source
--                     equality filters (NULL = any)
--   :after_ts, :after_system, :after_record_id
--                     cursor: sort key of the previous page's last row (NULL = first page)
--   :limit            rows to return (page size + 1, to tell whether there is a next page)
SELECT e.event_timestamp, e.source_system, e.source_record_id, e.item
FROM event_items AS e
WHERE e.event_timestamp <= MIN(:as_of, COALESCE(:after_ts, :as_of))
  AND e.event_timestamp >= COALESCE(:since, '')
  AND e.event_timestamp < COALESCE(:until, '9999-12-31 23:59:59.999999~')
  AND (:event_type IS NULL OR e.event_type = :event_type)
  AND e.event_name = :event_name
  AND (:event_source IS NULL OR e.event_source = :event_source)
  AND (
    :after_ts IS NULL
    OR e.event_timestamp < :after_ts
    OR (e.source_system, e.source_record_id) > (:after_system, :after_record_id)
  )
ORDER BY e.event_timestamp DESC, e.source_system ASC, e.source_record_id ASC
LIMIT :limit

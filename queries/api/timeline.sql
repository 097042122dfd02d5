-- GET /contacts/{contact_id}/timeline, and GET /events?contact_id=...: one contact's
-- ledger rows matching every given filter, newest first, ties by source_system then
-- source_record_id ascending. Keyset page after the cursor's row.
--
-- Result: the sort key (event_timestamp, source_system, source_record_id), then `item`,
-- the response item as JSON text (views.sql, the one place it is written). The API
-- joins a page's items without touching them.
--
-- Parameters (timestamps are mirror text 'YYYY-MM-DD HH:MM:SS.ffffff', UTC):
--   :contact_id       the contact (required)
--   :as_of            events after it do not count (inclusive bound)
--   :since            inclusive lower bound (NULL = none)
--   :until            exclusive upper bound (NULL = none)
--   :event_type       NULL = any
--   :event_name       NULL = any (GET /events only; the timeline passes NULL)
--   :event_source     NULL = any (GET /events only; the timeline passes NULL)
--   :after_ts, :after_system, :after_record_id
--                     cursor: sort key of the previous page's last row (NULL = first page)
--   :limit            rows to return (page size + 1, to tell whether there is a next page)
--
-- The time bounds are written as ranges on constant expressions (COALESCE/MIN of the
-- parameters) rather than `(:p IS NULL OR ...)` so SQLite can turn them into a range
-- on contact_events_contact_time (contact_id, event_timestamp): a page, even a deep one,
-- reads only its own rows. The cursor's timestamp caps the range; its tie-breaker
-- (source_system, source_record_id) applies within that one timestamp.
SELECT e.event_timestamp, e.source_system, e.source_record_id, e.item
FROM event_items AS e
WHERE e.contact_id = :contact_id
  AND e.event_timestamp <= MIN(:as_of, COALESCE(:after_ts, :as_of))
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

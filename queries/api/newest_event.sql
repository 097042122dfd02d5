-- The newest event_timestamp in the ledger (NULL when it is empty). Read once per build:
-- a route without a `days` look-back answers the same for every as_of at or after it, so
-- its ETag does not move with "now" (app/canned/etag.py). One step down contact_events_time.
--
-- No parameters.
SELECT MAX(event_timestamp) AS newest_event
FROM contact_events

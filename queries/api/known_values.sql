-- The values a request's `measure` and `lifecycle_stage` filters may take (CONTRACT §5):
-- every event_name a `form` event of the mirror has, and every lifecycle_stage a contact
-- has. A value outside these is a 400 naming them (unless allow_unseen=true), so a typo
-- never answers "every contact". Run once per mirror build, on the first request that
-- gives such a filter, and kept with the build (app/pool/mirror.py `memo`).
--
-- Result: kind ('measure' or 'lifecycle_stage'), value; sorted within each kind.
--
-- Plan: the measures are an index-only scan of contact_events_contact_type_time
-- (event_type, event_name are in it), the stages a walk of contacts_stage.
--
-- No parameters.
SELECT kind, value
FROM (
  SELECT 'measure' AS kind, event_name AS value
  FROM contact_events
  WHERE event_type = 'form' AND event_name IS NOT NULL
  GROUP BY event_name
  UNION ALL
  SELECT 'lifecycle_stage' AS kind, lifecycle_stage AS value
  FROM contacts
  WHERE lifecycle_stage IS NOT NULL
  GROUP BY lifecycle_stage
)
ORDER BY kind, value

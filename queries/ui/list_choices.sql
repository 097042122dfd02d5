-- The pages (/ui/): what the lists' forms offer. Every measure (event_name of a `form`
-- event) and every lifecycle_stage a contact has: the values the API's `measure` and
-- `lifecycle_stage` accept without allow_unseen (api/known_values.sql asks the same).
-- Read once per mirror build and kept.
--
-- Result: kind ('measure' or 'lifecycle_stage'), value; sorted within each kind.
--
-- Plan: the measures are a scan of the covering index contact_events_contact_type_time
-- (event_type and event_name are in it): read in order, no table lookups, 0.2 s at 1M
-- events. Left to itself SQLite walks contact_events_name_time for the GROUP BY's order
-- and looks every row up in the table for its event_type (3 s at 1M). The stages are a
-- walk of contacts_stage.
--
-- No parameters.
SELECT kind, value
FROM (
  SELECT 'measure' AS kind, event_name AS value
  FROM contact_events INDEXED BY contact_events_contact_type_time
  WHERE event_type = 'form' AND event_name IS NOT NULL
  GROUP BY event_name
  UNION ALL
  SELECT 'lifecycle_stage' AS kind, lifecycle_stage AS value
  FROM contacts
  WHERE lifecycle_stage IS NOT NULL
  GROUP BY lifecycle_stage
)
ORDER BY kind, value

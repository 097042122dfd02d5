-- Rows per mirror table, after an incremental patch (the build row records them).
SELECT
  (SELECT count(*) FROM contact_events) AS contact_events,
  (SELECT count(*) FROM contact_events_rejects) AS contact_events_rejects,
  (SELECT count(*) FROM contacts) AS contacts;

-- The pages (/ui/status): the source systems that have rejects or warnings, with how many
-- (the rejects table's source filter offers these).
--
-- Result: source_system, n.
--
-- No parameters.
SELECT source_system, COUNT(*) AS n
FROM contact_events_rejects
GROUP BY source_system
ORDER BY source_system

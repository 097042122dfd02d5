-- GET /status: diagnostics rows per reason (errors and orphan warnings).
-- Index-only scan of contact_events_rejects_reason; cached per mirror file.
--
-- No parameters.
SELECT reason, COUNT(*) AS n
FROM contact_events_rejects
GROUP BY reason
ORDER BY reason

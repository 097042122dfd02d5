-- The newest rebuild jobs, newest first (the status page's "last rebuilds").
--
-- Parameters:
--   :limit  how many
SELECT *
FROM rebuild_jobs
ORDER BY created_at DESC, job_id
LIMIT :limit

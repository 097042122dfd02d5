-- The queued or running job, if any (single flight: at most one is live).
SELECT * FROM rebuild_jobs
WHERE state IN ('queued', 'running')
ORDER BY created_at DESC, job_id

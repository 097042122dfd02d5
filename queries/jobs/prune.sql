-- Keep the newest :keep jobs; never drop a queued or running one.
DELETE FROM rebuild_jobs
WHERE state IN ('succeeded', 'failed')
  AND job_id NOT IN (
    SELECT job_id FROM rebuild_jobs ORDER BY created_at DESC, job_id DESC LIMIT :keep
  )

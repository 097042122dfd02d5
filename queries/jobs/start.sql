UPDATE rebuild_jobs
SET state = 'running', started_at = :now, heartbeat_at = :now
WHERE job_id = :job_id

UPDATE rebuild_jobs SET heartbeat_at = :now
WHERE job_id = :job_id AND state IN ('queued', 'running')

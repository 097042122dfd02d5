UPDATE rebuild_jobs
SET state = :state, finished_at = :now, duration_seconds = :duration_seconds,
    report = :report, error = :error, heartbeat_at = :now
WHERE job_id = :job_id

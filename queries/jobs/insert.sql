INSERT INTO rebuild_jobs (job_id, state, created_at, heartbeat_at)
VALUES (:job_id, 'queued', :now, :now)

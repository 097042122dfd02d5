-- Fail queued or running jobs whose worker stopped sending heartbeats.
UPDATE rebuild_jobs
SET state = 'failed',
    finished_at = :now,
    error = 'interrupted: the API worker running this job stopped'
WHERE state IN ('queued', 'running') AND heartbeat_at < :stale_before

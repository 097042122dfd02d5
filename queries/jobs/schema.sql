-- Rebuild jobs of the API, in a small SQLite file beside the mirror (`<mirror>.jobs.db`),
-- so every API worker process sees the same jobs and they outlive a restart.
-- Times are UTC in the mirror's text form (YYYY-MM-DD HH:MM:SS.ffffff).
-- heartbeat_at: refreshed every few seconds by the worker running the job; a queued or
-- running job whose heartbeat stopped belongs to a worker that died, and is failed.
-- WAL: the API's workers read jobs while one of them writes.
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS rebuild_jobs (
  job_id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  duration_seconds REAL,
  report TEXT,
  error TEXT,
  heartbeat_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rebuild_jobs_created ON rebuild_jobs (created_at);

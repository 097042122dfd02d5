SELECT * FROM rebuild_jobs WHERE job_id = :job_id

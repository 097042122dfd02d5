"""The API side of recovery (app/jobs/manager.py): a killed worker's rebuild job is
found dead in seconds, a deleted jobs store is recreated while the API runs, and the
store is owner-only whatever the umask."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from test_api_support import ADMIN, client_for, make_app

from contact_events.app.jobs.manager import STALE_SECONDS, JobManager
from contact_events.builder.core.config import Settings

pytest_plugins = ["test_api_support"]

ROOT = Path(__file__).resolve().parent.parent
SLOW_WORKER = """
import sys, time
from contact_events.app.jobs.manager import JobManager
from contact_events.builder.core.config import Settings
jobs = JobManager(Settings(mirror_path=sys.argv[1]), runner=lambda s: time.sleep(600))
job, started = jobs.submit()
assert started
time.sleep(1.5)  # running, heartbeat going
print(job["job_id"], flush=True)
time.sleep(600)
"""


def test_a_killed_workers_job_is_found_dead_in_seconds(tmp_path):
    settings = Settings(mirror_path=tmp_path / "m.db")
    worker = subprocess.Popen(
        [sys.executable, "-c", SLOW_WORKER, str(settings.mirror_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        job_id = worker.stdout.readline().strip()
        assert job_id, worker.stderr.read()
        jobs = JobManager(settings, runner=lambda s: None)
        assert jobs.get(job_id)["state"] == "running"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        killed = time.monotonic()
        while True:
            job, started = jobs.submit()
            if started:
                break
            assert job["job_id"] == job_id
            assert time.monotonic() - killed < STALE_SECONDS + 5, "still handed back as running"
            time.sleep(0.2)
        waited = time.monotonic() - killed
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert waited < 15
    dead = jobs.get(job_id)
    assert dead["state"] == "failed" and dead["error"].startswith("interrupted")


def test_a_deleted_job_store_is_recreated_while_the_api_runs(practice: Settings):
    test_client, client = client_for(make_app(practice, rebuild_runner=lambda s: None), ADMIN)
    store = Path(f"{practice.mirror_path}.jobs.db")
    with test_client:
        first = client.rebuild()
        assert store.exists()
        for path in store.parent.glob(store.name + "*"):
            path.unlink()
        second = test_client.post("/rebuild", headers={"Authorization": f"Bearer {ADMIN}"})
        assert second.status_code == 202, second.text
        assert second.json()["job_id"] != first.job_id
        assert (
            test_client.get(
                f"/rebuild/{second.json()['job_id']}", headers={"Authorization": f"Bearer {ADMIN}"}
            ).status_code
            == 200
        )
    assert store.exists()


def test_the_job_store_is_owner_only_whatever_the_umask(tmp_path):
    previous = os.umask(0)
    try:
        jobs = JobManager(Settings(mirror_path=tmp_path / "new" / "m.db"), runner=lambda s: None)
        jobs.active()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(jobs.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(jobs.path.parent.stat().st_mode) == 0o700

"""POST /rebuild jobs over real warehouses and mirrors; readers during swaps."""

from __future__ import annotations

import copy
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_api_support import (
    ADMIN,
    PRACTICE_TABLES,
    READ,
    Server,
    as_sent,
    auth,
    client_for,
    make_app,
    write_corrupt,
)

from contact_events.app.jobs.manager import JobManager
from contact_events.builder.core.config import Settings
from contact_events.builder.engine import open_warehouse
from contact_events.builder.pipeline import rebuild
from contact_events.builder.stages.load import load_directory
from contact_events_client import ContactEventsClient, RebuildFailedError
from contact_events_client.models import RebuildJob

# Fixtures (practice, api, http) live in test_api_support.
pytest_plugins = ["test_api_support"]

TIMEOUT = 60.0


def wait_done(client: ContactEventsClient, job_id: str) -> RebuildJob:
    """The finished job, succeeded or failed (the client's wait_for_rebuild raises on a
    failed one; these tests look at failed jobs too)."""
    try:
        return client.wait_for_rebuild(job_id, timeout=TIMEOUT, poll=0.02)
    except RebuildFailedError as failed:
        return failed.job


def load(settings: Settings, tables: dict[str, list[dict[str, Any]]], where: Path) -> None:
    from conftest import write_canonicals

    with open_warehouse(settings) as warehouse:
        load_directory(warehouse, write_canonicals(where, tables))


def with_more_events(n: int) -> dict[str, list[dict[str, Any]]]:
    """The practice plus `n` messages for c1 (dataset B of the swap tests)."""
    tables = copy.deepcopy(PRACTICE_TABLES)
    tables["messages"] += [
        {"message_id": f"extra{i}", "channel": "sms", "direction": "inbound",
         "contact_id": "c1", "sent_at": f"2024-06-{10 + i:02d}T08:00:00Z"}
        for i in range(n)
    ]  # fmt: skip
    return tables


@pytest.fixture
def admin(practice: Settings) -> Iterator[ContactEventsClient]:
    test_client, client = client_for(make_app(practice), token=ADMIN)
    with test_client:
        yield client


def test_rebuild_202_and_succeeds(practice: Settings):
    test_client, client = client_for(make_app(practice), token=ADMIN)
    with test_client:
        before = client.status().build.build_id
        response = test_client.post("/rebuild", headers=auth(ADMIN))
        assert response.status_code == 202
        job = response.json()
        assert response.headers["Location"] == f"/rebuild/{job['job_id']}"
        assert job["state"] in ("queued", "running", "succeeded")
        assert job["created_at"].endswith("Z") and job["error"] is None
        done = wait_done(client, job["job_id"])
        assert done.state == "succeeded", done
        assert done.error is None
        assert done.started_at is not None and done.finished_at is not None
        assert done.started_at >= done.created_at
        assert done.finished_at >= done.started_at
        assert done.duration_seconds is not None and done.duration_seconds > 0
        report = done.report
        assert report is not None
        assert report.total_rows == 19
        assert report.ledger_rows["measurement_events"] == 7
        assert report.rejects_by_reason["orphan"] == 2 and report.error_rejects == 0
        assert report.mirror_rows == {
            "contact_events": 19,
            "contact_events_rejects": 2,
            "contacts": 5,
        }
        # Automation with a read token can follow the job (only starting one is admin).
        polled = test_client.get(f"/rebuild/{job['job_id']}", headers=auth(READ))
        assert polled.status_code == 200 and polled.json() == as_sent(done)
        status = test_client.get("/status", headers=auth(READ))
        assert status.json()["build"]["build_id"] == report.build_id != before
        assert status.headers["X-Ledger-Build-Id"] == report.build_id


def test_single_flight(practice: Settings):
    gate = threading.Event()

    def gated(settings: Settings):
        assert gate.wait(TIMEOUT)
        return rebuild(settings)

    test_client, client = client_for(make_app(practice, rebuild_runner=gated), token=ADMIN)
    with test_client:
        first = client.rebuild()
        answers: list[RebuildJob] = []

        def post() -> None:
            answers.append(client.rebuild())

        threads = [threading.Thread(target=post) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert {a.job_id for a in answers} == {first.job_id}
        assert client.rebuild_job(first.job_id).state in ("queued", "running")
        assert client.rebuild_job(first.job_id).finished_at is None
        gate.set()
        assert wait_done(client, first.job_id).state == "succeeded"
        second = client.rebuild()
        assert second.job_id != first.job_id
        assert wait_done(client, second.job_id).state == "succeeded"
        # Both jobs stay readable.
        assert client.rebuild_job(first.job_id).state == "succeeded"


def test_swap_is_noticed(practice: Settings, tmp_path: Path, admin: ContactEventsClient):
    before = admin.timeline("c1")
    assert len(before.items) == 6
    old_build = admin.status().build.build_id
    load(practice, with_more_events(5), tmp_path / "b")
    job = wait_done(admin, admin.rebuild().job_id)
    assert job.state == "succeeded", job
    assert job.report is not None
    after = admin.timeline("c1")
    assert len(after.items) == 11
    assert {"extra0", "extra4"} <= {e.source_record_id for e in after.items}
    status = admin.status()
    assert status.build.build_id == job.report.build_id != old_build
    assert status.rows_by_source["canonical.messages"] == 8
    assert admin.contact_summary("c1").counts["message"] == 7


def test_in_place_incremental_patch_is_seen(
    practice: Settings, tmp_path: Path, admin: ContactEventsClient
):
    """`run --incremental` patches the live mirror file; the API follows it too."""
    from datetime import UTC, datetime

    old = admin.status().build
    assert len(admin.timeline("c1").items) == 6
    tables = with_more_events(3)
    now = datetime.now(UTC).isoformat()
    for row in tables["messages"]:
        row["created_at"] = now
    load(practice, tables, tmp_path / "inc")
    report = rebuild(practice, mode="incremental")
    assert report.sync.mode == "incremental"
    status = admin.status()
    assert status.build.build_id == report.build.build_id != old.build_id
    assert status.build.mode == "incremental"
    assert status.rows_by_source["canonical.messages"] == 6
    assert len(admin.timeline("c1").items) == 9


def test_failed_rebuild_keeps_serving_the_old_mirror(
    practice: Settings, admin: ContactEventsClient
):
    import duckdb

    build_id = admin.status().build.build_id
    timeline = admin.timeline("c2")
    con = duckdb.connect(str(practice.duckdb_path))
    try:
        con.execute("DROP TABLE messages")
    finally:
        con.close()
    job = wait_done(admin, admin.rebuild().job_id)
    assert job.state == "failed"
    assert job.report is None
    assert job.error is not None and "messages" in job.error
    assert job.finished_at is not None
    assert job.duration_seconds is not None and job.duration_seconds >= 0
    assert admin.status().build.build_id == build_id
    assert admin.timeline("c2") == timeline
    # After the fix (tables loaded again) the next rebuild succeeds.
    load(practice, PRACTICE_TABLES, practice.mirror_path.parent / "again")
    assert wait_done(admin, admin.rebuild().job_id).state == "succeeded"
    assert admin.status().build.build_id != build_id


def test_rebuild_while_another_writer_runs_fails_and_keeps_serving(
    practice: Settings, admin: ContactEventsClient, caplog: pytest.LogCaptureFixture
):
    """A `contact-events run` (here: its lock) is running: the job fails at once, clearly,
    and the server logs it as one line (an expected failure, not a traceback)."""
    from contact_events.builder.stages.lock import writer_lock

    build_id = admin.status().build.build_id
    timeline = admin.timeline("c2")
    with writer_lock(practice, "run"):
        job = wait_done(admin, admin.rebuild().job_id)
        assert job.state == "failed" and job.report is None
        assert job.error is not None
        assert job.error.startswith("BusyError: cannot rebuild: `run` (pid ")
        (logged,) = [r for r in caplog.records if r.name == "contact_events.api"
                     and "failed" in r.getMessage()]  # fmt: skip
        assert logged.levelname == "WARNING" and logged.exc_info is None
        assert "\n" not in logged.getMessage() and "cannot rebuild" in logged.getMessage()
        assert admin.status().build.build_id == build_id
        assert admin.timeline("c2") == timeline
    assert wait_done(admin, admin.rebuild().job_id).state == "succeeded"
    assert admin.status().build.build_id != build_id


def test_corrupt_warehouse_fails_the_job(practice: Settings, tmp_path: Path):
    bad = tmp_path / "corrupt.duckdb"
    write_corrupt(bad)
    settings = practice.model_copy(update={"duckdb_path": bad})
    test_client, client = client_for(make_app(settings), token=ADMIN)
    with test_client:
        build_id = client.status().build.build_id
        job = wait_done(client, client.rebuild().job_id)
        assert job.state == "failed" and job.error
        assert client.status().build.build_id == build_id
        assert len(client.timeline("c1").items) == 6


def test_jobs_are_kept_up_to_a_limit(tmp_path: Path):
    bad = tmp_path / "corrupt.duckdb"
    write_corrupt(bad)
    jobs = JobManager(Settings(duckdb_path=bad, mirror_path=tmp_path / "m.db"), keep=3)
    ids = []
    for _ in range(5):
        job, started = jobs.submit()
        assert started
        ids.append(job["job_id"])
        deadline = time.monotonic() + TIMEOUT
        while jobs.active() is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert jobs.get(job["job_id"])["state"] == "failed"
    assert [jobs.get(i) is not None for i in ids] == [False, False, True, True, True]


# -- jobs shared by API worker processes (one SQLite file beside the mirror) --------------


def gated(gate: threading.Event) -> Any:
    """A runner that waits for `gate`, then runs the real rebuild."""

    def run(settings: Settings):
        assert gate.wait(TIMEOUT)
        return rebuild(settings, validate=True)

    return run


def wait_state(jobs: JobManager, job_id: str, states: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT
    while (job := jobs.get(job_id))["state"] not in states:
        assert time.monotonic() < deadline, job
        time.sleep(0.02)
    return job


def test_workers_share_one_job_and_its_result(practice: Settings):
    """Two managers over one settings are two API workers: one job at a time between them,
    and either can answer for it, during and after."""
    gate = threading.Event()
    worker_a = JobManager(practice, runner=gated(gate))
    worker_b = JobManager(practice, runner=gated(gate))
    job, started = worker_a.submit()
    assert started
    again, started_b = worker_b.submit()
    assert not started_b and again["job_id"] == job["job_id"]
    assert worker_b.get(job["job_id"])["state"] in ("queued", "running")
    gate.set()
    done = wait_state(worker_b, job["job_id"], ("succeeded", "failed"))
    assert done["state"] == "succeeded", done
    assert done["report"]["total_rows"] == 19 and done["duration_seconds"] > 0
    # A restarted worker still knows the job.
    assert JobManager(practice).get(job["job_id"]) == done
    assert worker_b.active() is None


def test_a_job_whose_worker_died_is_failed_and_does_not_block(practice: Settings):
    import sqlite3 as sqlite

    from contact_events.app.jobs.manager import jobs_path

    manager = JobManager(practice, stale_seconds=30)
    manager.get("warm-up")  # creates the store
    # A worker died while running a job: its last heartbeat is an hour old.
    con = sqlite.connect(jobs_path(practice))
    con.execute(
        "INSERT INTO rebuild_jobs (job_id, state, created_at, started_at, heartbeat_at) "
        "VALUES ('dead', 'running', '2024-01-01 00:00:00.000000', "
        "'2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000')"
    )
    con.commit()
    con.close()
    dead = manager.get("dead")
    assert dead["state"] == "failed" and dead["error"].startswith("interrupted")
    job, started = manager.submit()
    assert started and job["job_id"] != "dead"
    assert wait_state(manager, job["job_id"], ("succeeded", "failed"))["state"] == "succeeded"


def test_a_long_job_keeps_its_heartbeat(practice: Settings):
    gate = threading.Event()
    worker = JobManager(practice, runner=gated(gate), stale_seconds=0.5, heartbeat_seconds=0.05)
    other = JobManager(practice, stale_seconds=0.5)
    job, _ = worker.submit()
    time.sleep(1.2)  # more than twice the stale limit: only the heartbeat keeps it alive
    assert other.get(job["job_id"])["state"] == "running"
    assert other.submit()[0]["job_id"] == job["job_id"]
    gate.set()
    assert wait_state(other, job["job_id"], ("succeeded", "failed"))["state"] == "succeeded"


def test_an_unusable_job_store_is_a_503_and_reads_go_on(practice: Settings):
    from contact_events.app.jobs.manager import jobs_path

    jobs_path(practice).mkdir()  # a folder where the SQLite file should be
    test_client, client = client_for(make_app(practice), token=ADMIN)
    with test_client:
        for response in (
            test_client.post("/rebuild", headers=auth(ADMIN)),
            test_client.get("/rebuild/abc", headers=auth(READ)),
        ):
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "job_store_unavailable"
            assert response.headers["Retry-After"] == "30"
        assert len(client.timeline("c1").items) == 6


# -- readers during rebuilds, over a real server ------------------------------------------


def mirror_truth(path: Path) -> tuple[str, dict[str, int]]:
    """(latest build id, expected answers) read straight from the mirror file."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        build = con.execute("SELECT build_id FROM ledger_builds ORDER BY rowid DESC").fetchone()
        c1 = con.execute("SELECT count(*) FROM contact_events WHERE contact_id = 'c1'")
        total = con.execute("SELECT count(*) FROM contact_events").fetchone()[0]
        return build[0], {"c1": c1.fetchone()[0], "ledger_rows": total, "recorded": total}
    finally:
        con.close()


def test_readers_during_rebuilds_see_whole_mirrors(practice: Settings, tmp_path: Path):
    """Readers hammer a real server while the mirror is replaced (POST /rebuild, full) and
    patched in place (`rebuild(mode="incremental")`): every answer is 200 and matches, row
    for row, the build its X-Ledger-Build-Id header names."""
    from datetime import UTC, datetime

    observations: list[tuple[str, str, int]] = []  # (build id, what, value)
    failures: list[str] = []
    stop = threading.Event()
    truth: dict[str, dict[str, int]] = {}

    def record_truth() -> None:
        build, answers = mirror_truth(practice.mirror_path)
        truth[build] = answers

    with Server(make_app(practice)) as base:

        def reader() -> None:
            with httpx.Client(base_url=base, headers=auth(READ), timeout=TIMEOUT) as http:
                while not stop.is_set():
                    for url in ("/contacts/c1/timeline", "/status", "/events?contact_id=c1"):
                        r = http.get(url)
                        if r.status_code != 200:
                            failures.append(f"{url} {r.status_code} {r.text}")
                            continue
                        body = r.json()
                        build = r.headers["X-Ledger-Build-Id"]
                        if url == "/status":
                            if body["build"]["build_id"] != build:
                                failures.append(f"status body/header disagree: {body}")
                            total = sum(body["rows_by_source"].values())
                            observations.append((build, "ledger_rows", total))
                            observations.append((build, "recorded", body["build"]["ledger_rows"]))
                        else:
                            observations.append((build, "c1", len(body["items"])))

        record_truth()
        with ContactEventsClient(base, ADMIN) as admin:
            threads = [threading.Thread(target=reader) for _ in range(4)]
            for t in threads:
                t.start()
            try:
                steps = [("full", 5), ("incremental", 7), ("incremental", 9), ("full", 0),
                         ("full", 5)]  # fmt: skip
                for i, (mode, extra) in enumerate(steps):
                    tables = with_more_events(extra)
                    for row in tables["messages"]:
                        row["created_at"] = datetime.now(UTC).isoformat()
                    load(practice, tables, tmp_path / f"load-{i}")
                    if mode == "full":
                        job = wait_done(admin, admin.rebuild().job_id)
                        assert job.state == "succeeded", job
                    else:
                        assert rebuild(practice, mode="incremental").sync.mode == "incremental"
                    record_truth()
                    time.sleep(0.1)  # let readers see this build
            finally:
                stop.set()
                for t in threads:
                    t.join(TIMEOUT)

    assert not failures, failures[:5]
    assert len(truth) == 6
    seen = {build for build, _, _ in observations}
    assert seen <= set(truth)
    assert len(seen) >= 4  # readers saw several mirrors go by
    for build, what, value in observations:
        assert value == truth[build][what], (build, what, value, truth[build])

"""`contact-events serve` as a real process on 127.0.0.1: refuses to start without tokens,
serves the mirror, and with `--workers 2` runs two worker processes that share jobs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import PRACTICE, build_mirror

READ_TOKEN = "read-token-" + "r" * 32  # tokens need 32+ characters
ADMIN_TOKEN = "admin-token-" + "a" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def workers_of(pid: int) -> list[int]:
    """Children running a uvicorn worker (not multiprocessing's resource tracker)."""
    found = []
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in cmdline:
            found.append(child)
    return found


@pytest.fixture
def mirror_env(tmp_path):
    rows = [
        {"message_id": f"m{i}", "contact_id": "c1", "sent_at": f"2024-03-0{i}T10:00:00Z"}
        for i in range(1, 4)
    ]
    settings, _, _ = build_mirror(
        tmp_path, {"contacts": [{"contact_id": "c1", "email": PRACTICE}], "messages": rows}
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTACT_EVENTS_")}
    env.update(
        CONTACT_EVENTS_MIRROR_PATH=str(settings.mirror_path),
        CONTACT_EVENTS_DUCKDB_PATH=str(settings.duckdb_path),
        CONTACT_EVENTS_API_TOKENS=READ_TOKEN,
        CONTACT_EVENTS_ADMIN_TOKEN=ADMIN_TOKEN,
    )
    return env


ROOT = Path(__file__).resolve().parents[1]


def start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """`contact-events serve` of this checkout (first on the path: not whatever checkout
    an editable install of the environment points at)."""
    path = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.Popen(
        [sys.executable, "-m", "contact_events.builder.cli", "serve", *args],
        env={**env, "PYTHONPATH": path},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_up(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server did not come up")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_serve_refuses_to_start_without_tokens(mirror_env, tmp_path):
    env = {k: v for k, v in mirror_env.items() if k != "CONTACT_EVENTS_API_TOKENS"}
    proc = start(["--port", str(free_port())], env, tmp_path)
    try:
        assert proc.wait(timeout=30) == 1
        assert "no API tokens" in proc.stderr.read()
    finally:
        stop(proc)


def test_serve_with_a_bad_setting_is_one_line(mirror_env, tmp_path):
    """No app is built at import time, so a bad setting is one line, not a traceback."""
    env = {**mirror_env, "CONTACT_EVENTS_QUERY_TIME_LIMIT_MS": "soon"}
    proc = start(["--port", str(free_port())], env, tmp_path)
    try:
        assert proc.wait(timeout=30) == 1
        stderr = proc.stderr.read()
        assert "CONTACT_EVENTS_QUERY_TIME_LIMIT_MS" in stderr
        assert "Traceback" not in stderr
        assert len(stderr.strip().splitlines()) == 1, stderr
    finally:
        stop(proc)


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_with_one_or_more_workers(mirror_env, tmp_path, workers):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start(["--port", str(port), "--workers", str(workers)], mirror_env, tmp_path)
    try:
        wait_up(url, proc)
        if workers > 1:  # uvicorn's supervisor, then one process per worker
            assert len(workers_of(proc.pid)) == workers
        read = {"Authorization": f"Bearer {READ_TOKEN}"}
        timeline = httpx.get(f"{url}/contacts/c1/timeline", headers=read, timeout=10)
        assert [e["source_record_id"] for e in timeline.json()["items"]] == ["m3", "m2", "m1"]
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        jobs = [httpx.post(f"{url}/rebuild", headers=admin, timeout=10) for _ in range(4)]
        assert [j.status_code for j in jobs] == [202] * 4
        assert len({j.json()["job_id"] for j in jobs}) == 1  # single flight, any worker
        job_id = jobs[0].json()["job_id"]
        deadline = time.monotonic() + 60
        while (job := httpx.get(f"{url}/rebuild/{job_id}", headers=read, timeout=10).json())[
            "state"
        ] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert job["state"] == "succeeded", job
    finally:
        stop(proc)
    assert children(proc.pid) == []


@pytest.mark.parametrize("variable", ["CONTACT_EVENTS_API_TOKENS", "CONTACT_EVENTS_ADMIN_TOKEN"])
def test_serve_refuses_to_start_with_a_short_token(mirror_env, tmp_path, variable):
    env = {**mirror_env, variable: "x" * 31}
    proc = start(["--port", str(free_port())], env, tmp_path)
    try:
        assert proc.wait(timeout=60) == 1
        err = proc.stderr.read()
        assert f"{variable}: " in err and "needs at least 32" in err
        assert "x" * 31 not in err  # the token itself is never printed
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_server_log_level_follows_the_setting(tmp_path, monkeypatch):
    from contact_events.app.http.logging import log_config, server_log_level
    from contact_events.builder.core.config import Settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONTACT_EVENTS_LOG_LEVEL", raising=False)
    assert server_log_level(Settings()) == "INFO"  # the server's default, not WARNING
    monkeypatch.setenv("CONTACT_EVENTS_LOG_LEVEL", "error")
    assert server_log_level(Settings()) == "ERROR"
    assert server_log_level(Settings(), "DEBUG") == "DEBUG"  # the command line's wins
    config = log_config(server_log_level(Settings()))
    for name in ("uvicorn", "uvicorn.error", "contact_events", "contact_events.access"):
        assert config["loggers"][name]["level"] == "ERROR", name


@pytest.mark.parametrize(
    ("variable", "args", "info_lines"),
    [(None, [], True), ("WARNING", [], False), ("debug", [], True), (None, ["-v"], True),
     ("INFO", ["--log-level", "error"], False)],
)  # fmt: skip
def test_serve_logs_at_the_configured_level(mirror_env, tmp_path, variable, args, info_lines):
    env = dict(mirror_env)
    if variable is not None:
        env["CONTACT_EVENTS_LOG_LEVEL"] = variable
    port = free_port()
    path = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(
        [sys.executable, "-m", "contact_events.builder.cli", *args, "serve", "--port", str(port)],
        env={**env, "PYTHONPATH": path},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}", proc)
        read = {"Authorization": f"Bearer {READ_TOKEN}"}
        assert httpx.get(f"http://127.0.0.1:{port}/events", headers=read).status_code == 200
    finally:
        stop(proc)
    stderr, stdout = proc.stderr.read(), proc.stdout.read()
    assert ("INFO uvicorn.error: Started server process" in stderr) == info_lines, stderr
    assert ("GET /events 200" in stdout) == info_lines, stdout  # the access log
    if not info_lines:
        assert " INFO " not in stderr

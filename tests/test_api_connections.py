"""Mirror connections are owned by a bounded pool and closed when the mirror is swapped:
bursts of concurrent requests, idle gaps (the thread pool retires its threads) and syncs,
cycle after cycle, leave the process's open files and deleted-but-open mirrors flat."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio._backends._asyncio as anyio_asyncio
import pytest
from test_api_support import PRACTICE_TABLES, TestClient, auth, make_app

from contact_events.builder.engine import open_warehouse
from contact_events.builder.stages.sync import sync

pytest_plugins = ["test_api_support"]

BURST = 40
CYCLES = 6
# Long routes (thread pool) and short ones (event loop), cursors and all.
URLS = [
    "/contacts/needs-form?days=14&as_of=2024-06-30T12:00:00Z&limit=2",
    "/contacts/gone-quiet?days=1",
    "/contacts/channel-summary?limit=2",
    "/events?event_type=system",
    "/contacts/c1/timeline",
    "/contacts/c2/summary",
    "/status",
]


def open_files(mirror: Path) -> tuple[int, int]:
    """(file descriptors open in this process, those naming a deleted mirror file)."""
    total = deleted = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        total += 1
        if mirror.name in target and target.endswith("(deleted)"):
            deleted += 1
    return total, deleted


@pytest.fixture
def quick_thread_retirement(monkeypatch):
    """anyio retires a worker thread idle for 10 s; make it 0.2 s so the test can idle."""
    monkeypatch.setattr(anyio_asyncio.WorkerThread, "MAX_IDLE_TIME", 0.2)


def test_bursts_idle_gaps_and_syncs_leak_nothing(mirror_factory, quick_thread_retirement):
    settings, _, _ = mirror_factory(PRACTICE_TABLES)
    mirror_path = Path(settings.mirror_path)
    app = make_app(settings)
    with TestClient(app) as http, ThreadPoolExecutor(BURST) as burst:

        def get(i: int) -> int:
            return http.get(URLS[i % len(URLS)], headers=auth()).status_code

        assert set(burst.map(get, range(BURST))) == {200}
        baseline, _ = open_files(mirror_path)
        seen = []
        for _cycle in range(CYCLES):
            assert set(burst.map(get, range(BURST))) == {200}  # burst
            time.sleep(0.5)  # idle: the thread pool retires its workers
            with open_warehouse(settings) as wh:  # a sync swaps in a new mirror file
                sync(wh, settings.mirror_path)
            assert http.get("/health").json()["mirror_available"] is True
            total, deleted = open_files(mirror_path)
            seen.append((total, deleted, app.state.mirror.open_connections))
            assert deleted == 0, seen
            assert app.state.mirror.open_connections <= app.state.mirror.max_idle, seen
        # Flat: no more handles after the last cycle than after the first.
        assert max(total for total, _, _ in seen) <= baseline + 2, (baseline, seen)
    assert app.state.mirror.open_connections == 0  # shutdown closed the rest


def test_a_swapped_mirror_is_let_go_without_a_request(mirror_factory):
    """The app checks the mirror file every few seconds: idle connections to a replaced
    file are closed even when no request comes to notice the swap."""
    settings, _, _ = mirror_factory(PRACTICE_TABLES)
    mirror_path = Path(settings.mirror_path)
    app = make_app(settings)
    with TestClient(app) as http:
        for url in URLS:
            assert http.get(url, headers=auth()).status_code == 200
        assert app.state.mirror.open_connections >= 1
        with open_warehouse(settings) as wh:
            sync(wh, settings.mirror_path)
        deadline = time.monotonic() + 10
        while open_files(mirror_path)[1] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert open_files(mirror_path)[1] == 0
        assert app.state.mirror.open_connections == 0


def test_a_damaged_connection_is_closed_not_reused(practice):
    from test_api_support import write_corrupt

    app = make_app(practice)
    with TestClient(app) as http:
        assert http.get("/contacts/c1/timeline", headers=auth()).status_code == 200
        write_corrupt(practice.mirror_path)  # in place: same inode, new size and mtime
        for _ in range(3):
            assert http.get("/contacts/c1/timeline", headers=auth()).status_code == 503
        assert app.state.mirror.open_connections == 0

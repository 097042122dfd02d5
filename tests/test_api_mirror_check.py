"""The API checks the mirror file it serves (API side): SQLite's
quick_check (`builder.mirror.store.verify_mirror`) once per file identity, never per request and
never on the event loop; a file that does not verify is not served (503 on data routes,
/health `mirror_available: false`, `mirror_verified: false`); /status says whether the
file in service verified and which checksum its sync recorded. /status's rows_by_source
follows the build's own sources."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from test_api_support import DATA_URLS, TestClient, auth, make_app

import contact_events.app.pool.mirror as pool_module

pytest_plugins = ["test_api_support"]


def damage_an_index(path: Path, index: str = "contact_events_name_time") -> None:
    """Overwrite the b-tree header of one index page: the ledger's own pages (and the
    build row) still read, so a request that does not use that index would answer."""
    con = sqlite3.connect(path)
    (page,) = con.execute("SELECT MIN(pageno) FROM dbstat WHERE name = ?", (index,)).fetchone()
    (size,) = con.execute("PRAGMA page_size").fetchone()
    con.close()
    with open(path, "r+b") as fh:
        fh.seek((page - 1) * size)
        fh.write(b"\x07" * 12)  # not a b-tree page type


def test_a_damaged_mirror_is_not_served_as_healthy(practice):
    damage_an_index(practice.mirror_path)
    with sqlite3.connect(practice.mirror_path) as con:  # before: the timeline still read
        assert con.execute("SELECT COUNT(*) FROM ledger_builds").fetchone()[0] == 1
    with TestClient(make_app(practice)) as http:
        assert http.get("/health").json() == {
            "status": "ok",
            "mirror_available": False,
            "mirror_verified": False,
        }
        for url in [*DATA_URLS, "/status"]:
            response = http.get(url, headers=auth())
            assert response.status_code == 503, (url, response.text)
            error = response.json()["error"]
            assert error["code"] == "mirror_unavailable"
            assert "did not verify" in error["message"]
            assert "quick_check" in error["message"]
            assert str(practice.mirror_path) not in error["message"]  # no server paths
            assert response.headers["retry-after"] == "30"


def test_a_good_mirror_verifies_once_per_file_identity(practice, monkeypatch, tmp_path):
    calls: list[str] = []
    real = pool_module.verify_mirror

    def counted(path, **kwargs):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:  # pragma: no cover - the failure this test is for
            raise AssertionError("verify_mirror ran on the event loop")
        calls.append(str(path))
        return real(path, **kwargs)

    monkeypatch.setattr(pool_module, "verify_mirror", counted)
    app = make_app(practice)
    with TestClient(app) as http:
        # The first request is the timeline: a short route, on the event loop; it hands
        # itself to a thread for the verification.
        for _ in range(3):
            for url in [*DATA_URLS[::-1], "/status"]:
                assert http.get(url, headers=auth()).status_code == 200, url
            assert http.get("/health").json()["mirror_verified"] is True
        assert len(calls) == 1
        # A new file (what sync's atomic swap does): verified once more, then served.
        copy = tmp_path / "copy.db"
        shutil.copyfile(practice.mirror_path, copy)
        os.replace(copy, practice.mirror_path)
        for _ in range(3):
            assert http.get("/contacts/c1/timeline", headers=auth()).status_code == 200
        app.state.mirror.check()  # what the watcher does every 2 s
        assert len(calls) == 2


def test_the_watcher_verifies_a_swapped_in_mirror_before_requests_need_it(
    practice, monkeypatch, tmp_path
):
    monkeypatch.setattr("contact_events.app.http.main.MIRROR_CHECK_SECONDS", 0.05)
    app = make_app(practice)
    with TestClient(app) as http:
        assert http.get("/health").json()["mirror_verified"] is True
        first = app.state.mirror.check_of(app.state.mirror._stat())
        copy = tmp_path / "copy.db"
        shutil.copyfile(practice.mirror_path, copy)
        os.replace(copy, practice.mirror_path)
        for _ in range(100):
            key = app.state.mirror._stat()
            if app.state.mirror.check_of(key) is not None:
                break
            http.get("/nowhere")  # lets the portal's loop run; no mirror work
            time.sleep(0.02)
        second = app.state.mirror.check_of(app.state.mirror._stat())
        assert second is not None and second is not first and second.ok


def test_status_reports_the_verification_and_the_recorded_checksum(http: TestClient, practice):
    with sqlite3.connect(practice.mirror_path) as con:
        (recorded,) = con.execute("SELECT checksum FROM ledger_builds").fetchone()
    assert recorded and recorded.startswith("sha256-")
    found = http.get("/status", headers=auth()).json()["mirror_verification"]
    assert found["verified"] is True
    assert found["quick_check"] == "ok"
    assert found["recorded_checksum"] == recorded
    assert found["checked_at"].endswith("Z") and found["seconds"] >= 0


@pytest.fixture
def own_sources(practice):
    """The practice mirror, its build row naming other sources (as a lorchestra or a
    practice's own profile would), in its own order."""
    sources = {"practice.calls": 0, "canonical.messages": 3, "measurement_events": 7}
    con = sqlite3.connect(practice.mirror_path)
    con.execute("UPDATE ledger_builds SET rows_by_source = ?", (json.dumps(sources),))
    con.commit()
    con.close()
    return practice


def test_status_rows_by_source_are_the_build_s_own_sources(own_sources):
    with TestClient(make_app(own_sources)) as http:
        status = http.get("/status", headers=auth()).json()
    assert list(status["rows_by_source"].items()) == [
        ("practice.calls", 0),  # the build's, 0 included, in the build's order
        ("canonical.messages", 3),
        ("measurement_events", 7),
        # found in the mirror beyond the build's sources: after them, never dropped
        ("canonical.clinical_sessions", 4),
        ("canonical.email_events", 2),
        ("canonical.system_events", 3),
    ]


def test_status_rows_by_source_of_a_build_row_without_sources(practice):
    """No sources recorded: the sources the mirror holds, as counted, never a guess made
    from a profile's files (the API reads no profile)."""
    con = sqlite3.connect(practice.mirror_path)
    con.execute("UPDATE ledger_builds SET rows_by_source = '{}', profile = 'lorchestra'")
    con.commit()
    con.close()
    with TestClient(make_app(practice)) as http:
        status = http.get("/status", headers=auth()).json()
    assert status["rows_by_source"] == {
        "canonical.clinical_sessions": 4,
        "canonical.email_events": 2,
        "canonical.messages": 3,
        "canonical.system_events": 3,
        "measurement_events": 7,
    }

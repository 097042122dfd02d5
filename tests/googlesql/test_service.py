"""Fetching the analyzer: without npm, or with a tarball that is not the package, the gate
says so in one line and leaves no half-made cache behind."""

from __future__ import annotations

import os
import stat

import pytest

from . import service


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "contact-events" / f"zetasql-{service.VERSION}"


def test_without_npm_the_gate_says_so_in_one_line(empty_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(service.Unavailable) as error:
        service.ensure()
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("npm is not installed") and "apt-get install npm" in message
    assert not empty_cache.exists()


def fake_npm(folder, script: str):
    """An `npm` on PATH that runs `script` (sh) with npm's arguments."""
    folder.mkdir()
    npm = folder / "npm"
    npm.write_text("#!/bin/sh\n" + script)
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def test_a_tarball_that_is_not_the_package_is_refused(empty_cache, tmp_path, monkeypatch):
    # writes a junk .tgz where --pack-destination says, as npm pack would write the real one
    path = fake_npm(tmp_path / "bin", 'while [ "$1" != "--pack-destination" ]; do shift; done\n'
                    'echo junk > "$2/fivetrandevelopers-zetasql-1.13.0.tgz"\n')  # fmt: skip
    monkeypatch.setenv("PATH", path)
    with pytest.raises(service.Unavailable, match=r"is not @fivetrandevelopers/zetasql@1\.13\.0"):
        service.ensure()
    assert not empty_cache.exists()
    assert [p.name for p in empty_cache.parent.iterdir()] == [empty_cache.name + ".lock"]


def test_npm_failing_is_one_line_naming_the_package(empty_cache, tmp_path, monkeypatch):
    path = fake_npm(tmp_path / "bin", "echo 'npm error code ENOTFOUND' >&2\nexit 1\n")
    monkeypatch.setenv("PATH", path)
    with pytest.raises(service.Unavailable) as error:
        service.ensure()
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("`npm pack @fivetrandevelopers/zetasql@1.13.0` failed")
    assert "npm error code ENOTFOUND" in message

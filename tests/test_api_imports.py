"""Starting the API loads what serving needs and no more: no transpiler, no warehouse
engine, no Arrow, no pipeline (a rebuild job imports the pipeline when it runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = """
import json, sys
from contact_events.app.http.main import create_app
create_app()
print(json.dumps(sorted(sys.modules)))
"""
HEAVY = ("sqlglot", "duckdb", "pyarrow", "google")
# What the API shares with the builder: settings, errors, the contract's names, the SQL
# files' text, owner-only files, timestamps, and the mirror's format (its files, build
# rows, read-only open and verification).
SHARED = {
    "contact_events.builder",
    "contact_events.builder.core",
    "contact_events.builder.mirror",
    "contact_events.builder.mirror.build_row",
    "contact_events.builder.core.config",
    "contact_events.builder.core.contract",
    "contact_events.builder.core.errors",
    "contact_events.builder.core.files",
    "contact_events.builder.mirror.store",
    "contact_events.builder.core.queries",
    "contact_events.builder.core.timestamps",
    "contact_events.builder.core.trace",
}


def started_modules(tmp_path: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTACT_EVENTS_")}
    env["CONTACT_EVENTS_API_TOKENS"] = "t" * 40
    env["CONTACT_EVENTS_MIRROR_PATH"] = str(tmp_path / "mirror.db")
    done = subprocess.run(
        [sys.executable, "-c", START],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def test_starting_the_api_imports_no_sqlglot_and_no_builder_stage(tmp_path):
    modules = started_modules(tmp_path)
    heavy = [m for m in modules if m.split(".")[0] in HEAVY]
    assert heavy == [], heavy
    builder = {m for m in modules if m.split(".")[0] == "builder"}
    assert builder <= SHARED, sorted(builder - SHARED)
    assert (
        "contact_events.app.http.main" in modules and "fastapi" in modules
    )  # the probe did start the API

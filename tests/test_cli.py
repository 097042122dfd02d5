"""`contact-events` command line (CONTRACT §6): help everywhere, load -> build -> sync end
to end through the real app, one-line errors, and a dry run that runs nothing."""

from __future__ import annotations

import sqlite3

import pytest
import typer
from typer.testing import CliRunner

from conftest import PRACTICE, write_canonicals
from contact_events.builder.cli import app
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse

CONTRACT_COMMANDS = {"load", "build", "sync", "run", "validate", "demo-data", "demo", "serve"}


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Settings only from the environment, all paths under tmp_path, output as in cron."""
    monkeypatch.chdir(tmp_path)  # no stray ./contact-events.toml
    for name in (
        "CONTACT_EVENTS_WAREHOUSE",
        "CONTACT_EVENTS_BQ_PROJECT",
        "CONTACT_EVENTS_BQ_DATASET",
        "CONTACT_EVENTS_API_TOKENS",
        "CONTACT_EVENTS_ADMIN_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    return {
        "CONTACT_EVENTS_DUCKDB_PATH": str(tmp_path / "wh" / "warehouse.duckdb"),
        "CONTACT_EVENTS_MIRROR_PATH": str(tmp_path / "mirror" / "contact_events.db"),
        "CONTACT_EVENTS_PRACTICE_EMAILS": f" {PRACTICE.upper()} , other@practice.example",
        "COLUMNS": "80",
    }


def invoke(args, env):
    return CliRunner().invoke(app, args, env=env)


def flat(text: str) -> str:
    return " ".join(text.split())


CANONICALS = {
    "contacts": [
        {"contact_id": "c1", "email": "ann@example.org", "lifecycle_stage": "active"},
        {"contact_id": "c2", "email": "bob@example.org", "lifecycle_stage": "active"},
    ],
    "messages": [
        {"message_id": "m1", "channel": "sms", "direction": "outbound", "contact_id": "c1",
         "sent_at": "2024-03-01T10:00:00Z"},
        {"message_id": "m2", "channel": "sms", "contact_email": "who@x.org",
         "sent_at": "2024-03-01T10:00:00Z"},
        {"message_id": "m3", "contact_id": "c1", "sent_at": "2024-02-30"},
    ],
    "email_events": [
        {"email_event_id": "e1", "provider": "gmail", "from_email": PRACTICE,
         "to_emails": ["bob@example.org"], "subject": "Hi", "sent_at": "2024-03-02"},
    ],
}  # fmt: skip


# --- help ---------------------------------------------------------------------------------


def test_the_app_has_help(env):
    result = invoke(["--help"], env)
    assert result.exit_code == 0
    assert app.info.help and app.info.help.strip()
    assert "Usage" in result.output


def test_every_command_has_help_text(env):
    group = typer.main.get_command(app)
    names = set(group.commands)
    assert CONTRACT_COMMANDS <= names
    for name, command in group.commands.items():
        assert command.help and command.help.strip(), name
        result = invoke([name, "--help"], env)
        assert result.exit_code == 0, (name, result.output)
        first_words = " ".join(command.help.split()[:4])
        assert first_words in flat(result.output), name
    for info in app.registered_commands:
        assert info.callback.__doc__ and info.callback.__doc__.strip(), info.callback.__name__


# --- end to end ---------------------------------------------------------------------------


def test_load_build_sync_end_to_end(env, tmp_path):
    canon = write_canonicals(tmp_path / "canonicals", CANONICALS)

    loaded = invoke(["load", str(canon)], env)
    assert loaded.exit_code == 0, loaded.output
    assert "messages 3" in flat(loaded.stdout)

    built = invoke(["build"], env)
    assert built.exit_code == 0, built.output
    summary = flat(built.stdout)
    assert "ledger rows 3" in summary
    assert "rejects by reason" in summary
    assert "bad_timestamp 1" in summary
    assert "orphan 1" in summary
    assert "unknown_contact_id 0" in summary

    synced = invoke(["sync"], env)
    assert synced.exit_code == 0, synced.output
    assert "contact_events 3" in flat(synced.stdout)

    con = sqlite3.connect(f"file:{env['CONTACT_EVENTS_MIRROR_PATH']}?mode=ro", uri=True)
    try:
        rows = dict(con.execute("SELECT source_record_id, contact_id FROM contact_events"))
        names = dict(con.execute("SELECT source_record_id, event_name FROM contact_events"))
        assert con.execute("SELECT COUNT(*) FROM ledger_builds").fetchone() == (1,)
    finally:
        con.close()
    assert rows == {"m1": "c1", "m2": None, "e1": "c2"}
    assert names["e1"] == "outbound: Hi"  # practice emails from the environment


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_load_of_a_missing_directory_is_a_one_line_error(env, tmp_path):
    missing = tmp_path / "no-such-canonicals"
    line = one_line_error(invoke(["load", str(missing)], env))
    assert "error" in line.lower()
    assert str(missing) in line


def test_load_of_a_missing_directory_short_path(env, tmp_path):
    line = one_line_error(invoke(["load", "nope"], env))
    assert "nope" in line


def test_sync_before_build_is_a_one_line_error(env, tmp_path):
    assert invoke(["load", str(write_canonicals(tmp_path / "c", CANONICALS))], env).exit_code == 0
    line = one_line_error(invoke(["sync"], env))
    assert "build" in line


def test_build_dry_run_prints_the_sql_and_runs_nothing(env, tmp_path):
    assert invoke(["load", str(write_canonicals(tmp_path / "c", CANONICALS))], env).exit_code == 0
    result = invoke(["build", "--dry-run"], env)
    assert result.exit_code == 0, result.output
    assert "CREATE OR REPLACE TABLE" in result.stdout
    assert "proj_contact_events" in result.stdout
    with DuckDBWarehouse(env["CONTACT_EVENTS_DUCKDB_PATH"], read_only=True) as wh:
        assert not wh.table_exists("proj_contact_events")
        assert not wh.table_exists("proj_contact_events_rejects")
        assert (
            wh.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'proj%'"
            )
            == []
        )
    assert not (tmp_path / "mirror" / "contact_events.db").exists()


# --- one writer at a time ------------------------------------------------------------------


@pytest.fixture
def lock_held_elsewhere(env):
    """Another process (as a running `contact-events run` would) holds the writers' lock."""
    import subprocess
    import sys

    from contact_events.builder.core.config import Settings
    from contact_events.builder.stages.lock import lock_path

    path = lock_path(Settings(mirror_path=env["CONTACT_EVENTS_MIRROR_PATH"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from filelock import FileLock; lock = FileLock(sys.argv[1]); "
         "lock.acquire(); print('held', flush=True); sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        yield path
    finally:
        holder.stdin.close()  # the holder exits, and the lock goes with it
        holder.wait(timeout=10)


def warehouse_contents(path: str) -> dict[str, list[dict]]:
    with DuckDBWarehouse(path, read_only=True) as wh:
        names = [r["table_name"] for r in wh.fetch(
            "SELECT table_name FROM information_schema.tables ORDER BY table_name"
        )]  # fmt: skip
        return {n: sorted((r for r in wh.fetch(f'FROM "{n}"')), key=repr) for n in names}


@pytest.mark.parametrize("command", [["build"], ["sync"], ["run"], ["load", "other"]])
def test_a_second_writer_fails_at_once_and_changes_nothing(
    env, tmp_path, lock_held_elsewhere, command
):
    from contact_events.builder.stages.load import load_directory

    with DuckDBWarehouse(env["CONTACT_EVENTS_DUCKDB_PATH"]) as wh:
        load_directory(wh, write_canonicals(tmp_path / "canonicals", CANONICALS))
    # `load other` would replace every table with other rows, were it let through.
    write_canonicals(tmp_path / "other", {"contacts": [{"contact_id": "z9"}]})
    before = warehouse_contents(env["CONTACT_EVENTS_DUCKDB_PATH"])
    line = one_line_error(invoke(command, env))
    assert "BusyError" in line and str(lock_held_elsewhere) in line
    assert warehouse_contents(env["CONTACT_EVENTS_DUCKDB_PATH"]) == before
    assert not (tmp_path / "mirror" / "contact_events.db").exists()


def test_no_command_trips_over_its_own_lock(env, tmp_path):
    """Each command takes the lock once (`run` through the pipeline, not twice), and lets
    it go before the next one starts."""
    canon = write_canonicals(tmp_path / "canonicals", CANONICALS)
    for args in (["load", str(canon)], ["build"], ["sync"], ["run"], ["build"]):
        result = invoke(args, env)
        assert result.exit_code == 0, (args, result.output)


# --- DuckDB memory budget -----------------------------------------------------------------


def test_duckdb_memory_limit_from_the_environment(env, tmp_path, monkeypatch):
    from contact_events.builder.core.config import Settings
    from contact_events.builder.engine import open_warehouse

    monkeypatch.setenv("CONTACT_EVENTS_DUCKDB_PATH", env["CONTACT_EVENTS_DUCKDB_PATH"])
    monkeypatch.setenv("CONTACT_EVENTS_DUCKDB_MEMORY_LIMIT", "300MB")
    with open_warehouse(Settings()) as wh:
        (row,) = wh.fetch("SELECT current_setting('memory_limit') AS v")
    assert row["v"] == "286.1 MiB"  # DuckDB reports 300 MB in MiB
    canon = write_canonicals(tmp_path / "canonicals", CANONICALS)
    limited = {**env, "CONTACT_EVENTS_DUCKDB_MEMORY_LIMIT": "300MB"}
    for args in (["load", str(canon)], ["build"], ["sync"]):
        assert invoke(args, limited).exit_code == 0, args


@pytest.mark.parametrize("value", ["lots", "1GB'; DROP TABLE contacts; --", "-5MB"])
def test_a_bad_duckdb_memory_limit_is_a_one_line_error(env, value):
    line = one_line_error(invoke(["build"], {**env, "CONTACT_EVENTS_DUCKDB_MEMORY_LIMIT": value}))
    assert line.endswith(
        "bad configuration: CONTACT_EVENTS_DUCKDB_MEMORY_LIMIT: expected a size such as "
        "512MB or 2GB"
    )


def test_any_bad_setting_is_one_line_naming_the_variable(env):
    line = one_line_error(invoke(["build"], {**env, "CONTACT_EVENTS_MAX_ROWS": "lots"}))
    assert "bad configuration: CONTACT_EVENTS_MAX_ROWS: Input should be a valid integer" in line

"""The command line as an operator meets it, through the real entry point in a
subprocess: data printed as data, one line per failure, no silent misconfiguration,
doctor, --version / --json / -v / plain help, the demo that can be come back to,
validate's options, owner-only files and locks."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_support import ROOT, one_line_error, run_cli
from conftest import PRACTICE, write_canonicals

TOKEN = "r" * 40
ADMIN = "a" * 40

CANONICALS = {
    "contacts": [
        {"contact_id": "c1", "email": "ann@example.org", "lifecycle_stage": "active"},
        {"contact_id": "[/bold]", "email": "bold@example.org"},
        {"contact_id": ":100:", "email": "hundred@example.org"},
        {"contact_id": "[red]x", "email": "red@example.org"},
    ],
    "messages": [
        {"message_id": "m1", "channel": "sms", "direction": "outbound", "contact_id": "c1",
         "sent_at": "2024-03-01T10:00:00Z"},
        {"message_id": "m2", "channel": "sms", "contact_id": "[/bold]",
         "sent_at": "2024-03-01T10:00:00Z"},
        {"message_id": "m3", "channel": "sms", "contact_id": ":100:",
         "sent_at": "2024-03-02T10:00:00Z"},
    ],
    "email_events": [
        {"email_event_id": "e1", "provider": "gmail", "from_email": PRACTICE,
         "to_emails": ["ann@example.org"], "subject": "Hi", "sent_at": "2024-03-02"},
    ],
}  # fmt: skip


@pytest.fixture
def env(tmp_path):
    return {
        "CONTACT_EVENTS_DUCKDB_PATH": str(tmp_path / "wh" / "warehouse.duckdb"),
        "CONTACT_EVENTS_MIRROR_PATH": str(tmp_path / "mirror" / "contact_events.db"),
        "CONTACT_EVENTS_PRACTICE_EMAILS": PRACTICE,
        "COLUMNS": "80",
    }


@pytest.fixture
def pipeline(env, tmp_path):
    """load + run through the real entry point."""
    canon = write_canonicals(tmp_path / "canonicals", CANONICALS)
    for args in (["load", str(canon)], ["run"]):
        result = run_cli(args, env, tmp_path)
        assert result.returncode == 0, (args, result.stderr)
    return env


# --- 1. data is printed as data ----------------------------------------------------------


@pytest.mark.parametrize("lineno", [100, 1234])
def test_a_bad_line_number_prints_as_written_not_as_an_emoji(env, tmp_path, lineno):
    folder = write_canonicals(tmp_path / "c", {"contacts": [{"contact_id": "c1"}]})
    good = b'{"message_id": "m", "sent_at": "2024-03-01"}\n'
    (folder / "messages.jsonl").write_bytes(good * (lineno - 1) + b"{oops\n")
    line = one_line_error(run_cli(["load", str(folder)], env, tmp_path))
    assert f"messages.jsonl:{lineno}: not valid JSON" in line
    assert "💯" not in line and "🔢" not in line


@pytest.mark.parametrize("value", ["[/bold]", "[red]x", ":100:"])
def test_values_with_markup_or_emoji_codes_print_as_written(env, tmp_path, value):
    folder = write_canonicals(
        tmp_path / "c", {"clinical_sessions": [{"session_id": "s1", "session_num": value}]}
    )
    line = one_line_error(run_cli(["load", str(folder)], env, tmp_path))
    assert (
        f"clinical_sessions.jsonl:1: field 'session_num': expected an integer, got {value!r}"
        in line
    )


def test_validate_prints_ids_with_markup_as_written(pipeline, tmp_path):
    result = run_cli(
        ["validate", "--contact", "[/bold]", "--contact", ":100:", "--contact", "[red]x"],
        pipeline,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "timeline of [/bold]" in result.stdout
    assert "timeline of :100:" in result.stdout and "💯" not in result.stdout
    assert "timeline of [red]x" in result.stdout
    assert "messages/m2" in result.stdout


def test_the_side_by_side_table_never_wraps_ids():
    """A narrow terminal: the ids stay whole on their line; the table is printed wider."""
    from io import StringIO

    from rich.console import Console

    from contact_events.builder.validate import render
    from contact_events.builder.validate.findings import FIELD_DIFFERS, Finding, ValidationResult

    long_id = "contact-" + "x" * 70
    record = "record-" + "y" * 60
    result = ValidationResult(targets=["warehouse"])
    result.add(
        Finding(
            "warehouse", FIELD_DIFFERS, "canonical.messages", record, long_id,
            field="event_name", expected="a" * 80, actual="b" * 80,
        )
    )  # fmt: skip
    buffer = StringIO()
    render(result, Console(file=buffer, width=60, markup=False, emoji=False))
    text = buffer.getvalue()
    assert any(long_id in line and record in line for line in text.splitlines()), text


# --- 2. one line, never a traceback -------------------------------------------------------


def test_build_before_any_load_names_the_missing_tables(env, tmp_path):
    line = one_line_error(run_cli(["build"], env, tmp_path))
    assert "canonical tables are missing" in line
    assert "contacts" in line and "messages" in line
    assert "contact-events load DIR" in line
    assert "Catalog Error" not in line


def test_a_malformed_toml_is_one_line_naming_file_and_line(env, tmp_path):
    (tmp_path / "contact-events.toml").write_text('warehouse = "duckdb"\nmirror_path = \n')
    line = one_line_error(run_cli(["build"], env, tmp_path))
    assert "contact-events.toml: not valid TOML" in line and "line 2" in line


def no_google_env(tmp_path: Path) -> dict[str, str]:
    """No credentials anywhere, and google-auth kept away from any metadata server."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "HOME": str(home),
        "CLOUDSDK_CONFIG": str(home / "gcloud"),
        "NO_GCE_CHECK": "true",
        "GCE_METADATA_HOST": "127.0.0.1:9",
        "GCE_METADATA_IP": "127.0.0.1:9",
        "CONTACT_EVENTS_WAREHOUSE": "bigquery",
        "CONTACT_EVENTS_BQ_PROJECT": "p",
        "CONTACT_EVENTS_BQ_DATASET": "d",
    }


def test_bigquery_without_credentials_is_one_line_saying_how(tmp_path):
    env = {
        **no_google_env(tmp_path),
        "CONTACT_EVENTS_MIRROR_PATH": str(tmp_path / "m.db"),
        "GOOGLE_APPLICATION_CREDENTIALS": None,
    }
    result = run_cli(["build"], env, tmp_path)
    line = one_line_error(result)
    assert "BigQuery needs Google credentials" in line
    assert "gcloud auth application-default login" in line
    assert "GOOGLE_APPLICATION_CREDENTIALS" in line


def test_an_endpoint_that_never_answers_is_one_line_naming_it_in_bounded_time(tmp_path):
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        env = {
            **no_google_env(tmp_path),
            "CONTACT_EVENTS_BQ_ENDPOINT": endpoint,
            "CONTACT_EVENTS_BQ_TIMEOUT_SECONDS": "1",
            "CONTACT_EVENTS_BQ_RETRIES": "1",
            "CONTACT_EVENTS_MIRROR_PATH": str(tmp_path / "m.db"),
        }
        started = time.monotonic()
        line = one_line_error(run_cli(["build"], env, tmp_path, timeout=60))
        elapsed = time.monotonic() - started
    assert f"BigQuery endpoint {endpoint} did not answer" in line
    assert "no answer within 1s" in line and "2 tries" in line
    assert elapsed < 30


def test_bigquery_without_the_extra_says_which_pip_install(tmp_path):
    fake = tmp_path / "no-google"
    (fake / "google").mkdir(parents=True)
    (fake / "google" / "__init__.py").write_text("")  # hides the real google.* packages
    env = {
        **no_google_env(tmp_path),
        "PYTHONPATH": str(fake),
        "CONTACT_EVENTS_MIRROR_PATH": str(tmp_path / "m.db"),
    }
    line = one_line_error(run_cli(["build"], env, tmp_path))
    assert "pip install 'contact-events[bigquery]'" in line


# --- 3. no silent misconfiguration --------------------------------------------------------


def test_an_unknown_toml_key_names_the_closest_setting(env, tmp_path):
    (tmp_path / "contact-events.toml").write_text('practise_emails = "a@b.org"\n')
    line = one_line_error(run_cli(["build"], env, tmp_path))
    assert "unknown setting 'practise_emails'; did you mean 'practice_emails'?" in line


def test_an_unknown_variable_names_the_closest_one(env, tmp_path):
    line = one_line_error(
        run_cli(["build"], {**env, "CONTACT_EVENTS_PRACTISE_EMAILS": "a@b.org"}, tmp_path)
    )
    assert "unknown environment variable CONTACT_EVENTS_PRACTISE_EMAILS" in line
    assert "did you mean CONTACT_EVENTS_PRACTICE_EMAILS?" in line


def test_a_removed_setting_says_what_replaced_it(env, tmp_path):
    """A setting an earlier release read is named as removed, with what to do, in the
    environment and in the toml (not a "did you mean" guess at an unrelated name)."""
    variable = {**env, "CONTACT_EVENTS_INCREMENTAL_LOOKBACK_HOURS": "48"}
    line = one_line_error(run_cli(["build"], variable, tmp_path))
    assert "CONTACT_EVENTS_INCREMENTAL_LOOKBACK_HOURS was removed" in line
    assert "staged rows" in line and "did you mean" not in line
    (tmp_path / "contact-events.toml").write_text("incremental_lookback_hours = 48\n")
    line = one_line_error(run_cli(["build"], env, tmp_path))
    assert "setting 'incremental_lookback_hours' was removed" in line


def test_config_reads_a_toml_from_anywhere(tmp_path):
    conf = tmp_path / "elsewhere" / "settings.toml"
    conf.parent.mkdir()
    conf.write_text(
        f'duckdb_path = "{tmp_path / "w.duckdb"}"\nmirror_path = "{tmp_path / "m.db"}"\n'
        f'practice_emails = ["{PRACTICE}"]\n'
    )
    canon = write_canonicals(tmp_path / "c", CANONICALS)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for args in (["load", str(canon)], ["build", "--json"]):
        result = run_cli(["--config", str(conf), *args], {}, cwd)
        assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["build"]
    assert report["warnings"] == []
    assert (tmp_path / "w.duckdb").exists() and not (cwd / "data").exists()
    missing = one_line_error(run_cli(["--config", str(tmp_path / "nope.toml"), "build"], {}, cwd))
    assert "nope.toml does not exist" in missing


def test_a_build_without_practice_emails_warns_in_its_report(env, tmp_path):
    canon = write_canonicals(tmp_path / "c", CANONICALS)
    quiet = {k: v for k, v in env.items() if k != "CONTACT_EVENTS_PRACTICE_EMAILS"}
    assert run_cli(["load", str(canon)], quiet, tmp_path).returncode == 0
    result = run_cli(["build"], quiet, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning: CONTACT_EVENTS_PRACTICE_EMAILS is not set" in result.stdout


def ledger_of(mirror: Path) -> list[tuple]:
    import sqlite3

    con = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)
    try:
        return con.execute(
            "SELECT source_record_id, contact_id, event_name FROM contact_events ORDER BY 1"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("profile", ["flat", "lorchestra"])
def test_demo_data_writes_its_practice_addresses_so_by_hand_equals_demo(tmp_path, profile):
    """The toml beside the data carries the profile and the addresses: load + build + sync
    by hand with it gives the demo's ledger, in either layout."""
    size = ["--contacts", "30", "--events", "600", "--profile", profile]
    demo = run_cli(["demo", "--no-serve", "--dir", str(tmp_path / "demo"), *size], {}, tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert f"({profile})" in demo.stdout  # the build report names the profile
    data = tmp_path / "data"
    made = run_cli(["demo-data", str(data), *size], {}, tmp_path)
    assert made.returncode == 0, made.stderr
    conf = data / "contact-events.toml"
    assert "hello@mindfulpractice.example" in made.stdout and str(conf) in made.stdout
    env = {
        "CONTACT_EVENTS_DUCKDB_PATH": str(tmp_path / "hand.duckdb"),
        "CONTACT_EVENTS_MIRROR_PATH": str(tmp_path / "hand.db"),
    }
    for args in (["load", str(data)], ["build"], ["sync"]):
        result = run_cli(["--config", str(conf), *args], env, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "warning" not in result.stdout
    by_hand = ledger_of(tmp_path / "hand.db")
    assert any(name.startswith("outbound: ") for _, _, name in by_hand if name)
    assert by_hand == ledger_of(tmp_path / "demo" / "contact_events.db")


# --- 4. doctor ----------------------------------------------------------------------------


def test_doctor_on_a_working_setup(pipeline, tmp_path):
    (tmp_path / "contact-events.toml").write_text(f'api_tokens = "{TOKEN}"\n')
    result = run_cli(["doctor"], {**pipeline, "CONTACT_EVENTS_ADMIN_TOKEN": ADMIN}, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert TOKEN not in out and ADMIN not in out  # redacted
    assert "CONTACT_EVENTS_API_TOKENS" in out and "1 set" in out
    assert "contact-events.toml" in out  # where api_tokens came from
    assert "environment (CONTACT_EVENTS_MIRROR_PATH)" in out
    assert "ok    warehouse: DuckDB" in out
    assert "canonical tables: clinical_sessions 0, contacts 4" in out
    assert "ok    mirror:" in out and "quick_check ok" in out
    assert "ok    writers' lock: free" in out
    report = json.loads(run_cli(["doctor", "--json"], pipeline, tmp_path).stdout)
    assert report["ok"] is True
    from contact_events.builder.mirror.store import verify_mirror

    verified = verify_mirror(pipeline["CONTACT_EVENTS_MIRROR_PATH"], checksum=True)
    assert verified.ok and verified.checksum == verified.recorded_checksum
    assert {c["name"] for c in report["checks"]} >= {"warehouse", "mirror", "writers' lock"}


def test_doctor_fails_on_a_broken_setup_and_names_the_lock_holder(env, tmp_path):
    from contact_events.builder.core.config import Settings
    from contact_events.builder.stages.lock import writer_lock

    with writer_lock(Settings(mirror_path=env["CONTACT_EVENTS_MIRROR_PATH"]), "run"):
        result = run_cli(["doctor"], env, tmp_path)
    assert result.returncode == 1
    assert "FAIL  mirror: no mirror at" in result.stdout
    assert f"writers' lock: held by `run` (pid {os.getpid()}" in result.stdout


@pytest.mark.parametrize(
    ("column", "text", "found"),
    [
        ("rows_by_source", '{"canonical.messages": 3', "rows_by_source is not JSON"),
        ("synced_at", "yesterday", "synced_at 'yesterday' is not a time"),
    ],
)
def test_status_on_a_damaged_build_row_is_one_line(pipeline, tmp_path, column, text, found):
    import sqlite3

    mirror = pipeline["CONTACT_EVENTS_MIRROR_PATH"]
    with sqlite3.connect(mirror) as con:
        con.execute(
            f"UPDATE ledger_builds SET {column} = ? "  # noqa: S608 - a test's own column
            "WHERE rowid = (SELECT MAX(rowid) FROM ledger_builds)",
            (text,),
        )
    con.close()
    line = one_line_error(run_cli(["status"], pipeline, tmp_path))
    assert mirror in line and found in line
    result = run_cli(["status", "--json"], pipeline, tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert json.loads(result.stdout)["error"]["type"] == "DamagedBuildRow"
    doctor = run_cli(["doctor"], pipeline, tmp_path)
    assert doctor.returncode == 1 and "Traceback" not in doctor.stderr
    assert f"FAIL  mirror: {mirror}: the latest ledger_builds row is damaged" in doctor.stdout


# --- 5. conventions -----------------------------------------------------------------------


def test_version(tmp_path):
    from importlib.metadata import version

    result = run_cli(["--version"], {}, tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"contact-events {version('contact-events')}"


@pytest.mark.parametrize("command", [["build"], ["sync"], ["run"], ["validate"], ["status"]])
def test_json_reports_are_one_machine_readable_object(pipeline, tmp_path, command):
    result = run_cli([*command, "--json"], pipeline, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["ok"] is True
    key = {"build": "build", "sync": "sync", "run": "sync", "validate": "validation"}.get(
        command[0], "build"
    )
    assert report[key]


def test_json_errors_are_machine_readable_too(env, tmp_path):
    result = run_cli(["build", "--json"], env, tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["error"]["type"] == "WarehouseError"


def test_output_that_is_not_a_terminal_is_never_wrapped(pipeline, tmp_path):
    deep = tmp_path / ("a-very-long-folder-name-" * 4) / "contact_events.db"
    env = {**pipeline, "CONTACT_EVENTS_MIRROR_PATH": str(deep), "COLUMNS": "80"}
    result = run_cli(["sync"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = [ln for ln in result.stdout.splitlines() if "sync of" in ln]
    assert str(deep) in line and len(line) > 120


def test_verbose_logs_steps_and_log_level_quietens(pipeline, tmp_path):
    loud = run_cli(["-v", "build"], pipeline, tmp_path)
    assert loud.returncode == 0
    assert "INFO contact_events.build: build step resolve/resolve" in loud.stderr
    assert "INFO contact_events.lock: writers' lock" in loud.stderr
    quiet = run_cli(["build"], {**pipeline, "CONTACT_EVENTS_LOG_LEVEL": "error"}, tmp_path)
    assert quiet.returncode == 0 and "INFO" not in quiet.stderr


def test_help_is_plain_and_names_environment_variables(tmp_path):
    helps = {
        args[0] if args else "": run_cli([*args, "--help"], {}, tmp_path).stdout
        for args in ([], ["run"], ["serve"], ["validate"], ["build"], ["demo"])
    }
    for name, text in helps.items():
        assert "<bool>" not in text and "╭" not in text, name
    assert "CONTACT_EVENTS_CONFIG" in helps[""] and "CONTACT_EVENTS_LOG_LEVEL" in helps[""]
    assert "CONTACT_EVENTS_MAX_ERRORS" in helps["run"]
    assert "WEB_CONCURRENCY" in helps["serve"]


# --- 6. the demo can be come back to ------------------------------------------------------


def test_demo_checks_the_port_before_building(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        started = time.monotonic()
        line = one_line_error(
            run_cli(["demo", "--dir", str(tmp_path / "demo"), "--port", str(port)], {}, tmp_path)
        )
    assert f"cannot serve on 127.0.0.1:{port}" in line and "--port" in line
    assert not (tmp_path / "demo").exists()
    assert time.monotonic() - started < 30


def test_a_second_demo_reuses_the_mirror_and_keeps_the_tokens(tmp_path):
    folder = tmp_path / "demo"
    args = ["demo", "--no-serve", "--dir", str(folder), "--contacts", "20", "--events", "300"]
    first = run_cli(args, {}, tmp_path)
    assert first.returncode == 0, first.stderr
    settings_file = folder / "contact-events.toml"
    assert stat.S_IMODE(settings_file.stat().st_mode) == 0o600
    token = next(ln.split()[-1] for ln in first.stdout.splitlines() if "token:" in ln)
    assert len(token) >= 32 and token in settings_file.read_text()
    again = f"contact-events --config {settings_file} serve"
    assert again in first.stdout
    mirror_mtime = (folder / "contact_events.db").stat().st_mtime_ns

    second = run_cli(args, {}, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "serving the demo mirror already in" in second.stdout
    assert f"token: {token}" in second.stdout
    assert (folder / "contact_events.db").stat().st_mtime_ns == mirror_mtime

    fresh = run_cli([*args, "--fresh"], {}, tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    assert f"token: {token}" in fresh.stdout  # kept across a rebuild too
    assert (folder / "contact_events.db").stat().st_mtime_ns != mirror_mtime

    nothing = run_cli(
        ["demo", "--no-serve", "--reuse", "--dir", str(tmp_path / "none")], {}, tmp_path
    )
    assert "no demo in" in one_line_error(nothing)


def test_the_printed_command_serves_the_demo_again(tmp_path):
    folder = tmp_path / "demo"
    made = run_cli(
        ["demo", "--no-serve", "--dir", str(folder), "--contacts", "10", "--events", "100"],
        {},
        tmp_path,
    )
    assert made.returncode == 0, made.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = next(ln.split()[-1] for ln in made.stdout.splitlines() if "token:" in ln)
    from cli_support import CLEAN_ENV, entry_point

    proc = subprocess.Popen(
        [*entry_point(), "--config", str(folder / "contact-events.toml"), "serve",
         "--port", str(port)],
        env=CLEAN_ENV, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/status",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=2,
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.3)
        assert answer.status_code == 200, answer.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- 7. validate's options ----------------------------------------------------------------


def test_validate_rejects_an_unknown_contact_and_contradictory_options(pipeline, tmp_path):
    line = one_line_error(run_cli(["validate", "--contact", "c-nobody"], pipeline, tmp_path))
    assert "unknown contact 'c-nobody'" in line
    line = one_line_error(run_cli(["validate", "--sample", "2", "--all"], pipeline, tmp_path))
    assert "--sample N and --all contradict each other" in line


# --- owner-only files, whatever the umask --------------------------------------------------


def test_every_file_the_commands_create_is_owner_only(tmp_path):
    data = tmp_path / "fresh" / "data"
    env = {
        "CONTACT_EVENTS_DUCKDB_PATH": str(data / "wh" / "warehouse.duckdb"),
        "CONTACT_EVENTS_MIRROR_PATH": str(data / "contact_events.db"),
    }
    canon = write_canonicals(tmp_path / "c", CANONICALS)
    for args in (["load", str(canon)], ["run"], ["sync"]):
        result = run_cli(args, env, tmp_path, umask=0)
        assert result.returncode == 0, result.stderr
    for folder in (tmp_path / "fresh", data, data / "wh"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    files = [p for p in data.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"warehouse.duckdb", "contact_events.db",
                                       "contact_events.db.lock"}  # fmt: skip
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


# --- writers and readers never trip over each other ----------------------------------------


def test_validate_takes_the_lock_so_a_writer_meeting_it_gets_one_line(pipeline, tmp_path):
    from contact_events.builder.core.config import Settings
    from contact_events.builder.stages.lock import writer_lock

    with writer_lock(Settings(mirror_path=pipeline["CONTACT_EVENTS_MIRROR_PATH"]), "validate"):
        line = one_line_error(run_cli(["run"], pipeline, tmp_path))
    assert "BusyError: cannot rebuild: `validate` (pid" in line


def test_a_warehouse_held_by_another_process_is_one_line_busy(pipeline, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "sys.stdin.read()", pipeline["CONTACT_EVENTS_DUCKDB_PATH"]],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        for command in (["build"], ["validate"]):
            line = one_line_error(run_cli(command, pipeline, tmp_path))
            assert "BusyError" in line and "is open in another process" in line, line
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_readme_documents_the_new_commands():
    readme = (ROOT / "README.md").read_text()
    for text in ("contact-events doctor", "contact-events status", "--json", "--config"):
        assert text in readme

"""`contact-events`: a thin Typer shell over the builder library.

Each command calls the library, shows progress on stderr, and ends with one summary of
what it did (or, with `--json`, one JSON object on stdout: build, sync, run, validate,
status, doctor). Library errors (builder.core.errors) become one line on stderr and exit code
1 (`@command`; with `--json` also a JSON error object on stdout); anything else is a bug
and keeps its traceback.

Output conventions: values and file names are printed as data, never through Rich markup
or emoji codes (every Console here has markup and emoji off, and tables get `Text`
cells); output that is not a terminal is never wrapped (no 80-column default); help is
plain text, each option naming its environment variable where it has one. Every file
the commands create is owner-only (the process umask is 077, builder/core/files.py).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .core.config import CONFIG_VARIABLE, LOG_LEVELS, Settings, load_settings, variable_name
from .core.contract import WARNING_REASONS
from .core.errors import ContactEventsError, flatten, one_line
from .core.files import restrict_umask
from .demo.run import DemoProfile

app = typer.Typer(
    help="Operational event ledger of a psychology practice: build, sync, validate, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: no <bool> column, no markup read from text
)
F = TypeVar("F", bound=Callable[..., Any])
UNWRAPPED = 100_000  # the width of output that is not a terminal: lines are never wrapped
ProfileOption = Annotated[
    DemoProfile,
    typer.Option(
        "--profile",
        help="Layout of the demo data: flat (CONTRACT §1) or lorchestra (§7: canonical_objects "
        "and measurement_events).",
    ),
]


def make_console(stderr: bool = False, min_width: int | None = None) -> Console:
    """A Console printing data as data (no markup, no emoji), unwrapped unless a terminal;
    on a terminal at least `min_width` columns wide when given (wider than the window)."""
    probe = Console(stderr=stderr)
    if not probe.is_terminal:
        width: int | None = UNWRAPPED
    else:
        width = max(probe.width, min_width) if min_width is not None else None
    return Console(stderr=stderr, emoji=False, highlight=False, markup=False, width=width)


out = make_console()
err = make_console(stderr=True)
STATE: dict[str, Any] = {"level_given": False}


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("contact-events")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def show_version(value: bool) -> None:
    if value:
        print(f"contact-events {package_version()}")
        raise typer.Exit()


def _log_level(value: str | None) -> str | None:
    if value is None:
        return None
    upper = value.strip().upper()
    if upper not in LOG_LEVELS:
        raise typer.BadParameter(f"one of {', '.join(LOG_LEVELS)}")
    return upper


def setup_logging(level: str, show_sql: bool) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # google-auth warns on its own while looking for credentials; the one error line says it
    logging.getLogger("google.auth").setLevel(logging.NOTSET if level == "DEBUG" else "ERROR")
    sql_log = logging.getLogger("contact_events.sql")
    for handler in list(sql_log.handlers):
        sql_log.removeHandler(handler)
    sql_log.setLevel(logging.NOTSET)
    sql_log.propagate = True
    if show_sql:
        sql_log.setLevel(logging.DEBUG)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        sql_log.addHandler(handler)
        sql_log.propagate = False


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar=CONFIG_VARIABLE,
            show_envvar=True,
            metavar="PATH",
            help="Read settings from this toml file instead of ./contact-events.toml.",
        ),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            show_default=False,
            help="Log what runs: -v steps and timings, -vv debug.",
        ),
    ] = 0,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            envvar=variable_name("log_level"),
            show_envvar=True,
            metavar="LEVEL",
            callback=_log_level,
            help="DEBUG, INFO, WARNING (default) or ERROR; -v overrides it.",
        ),
    ] = None,
    show_sql: Annotated[
        bool, typer.Option("--show-sql", help="Print every SQL statement before it runs.")
    ] = False,
) -> None:
    """Settings come from CONTACT_EVENTS_* variables or a toml file (--config); see doctor."""
    global out, err
    out, err = make_console(), make_console(stderr=True)
    restrict_umask()  # patient data: every file this process creates is owner-only
    if config is not None:
        os.environ[CONFIG_VARIABLE] = str(config.expanduser().resolve())
    level = {0: None, 1: "INFO"}.get(verbose, "DEBUG") if verbose else log_level
    STATE["level_given"] = level is not None
    STATE["level"] = level
    setup_logging(level or "WARNING", show_sql)


def emit(report: dict[str, Any]) -> None:
    """The command's one machine-readable report (`--json`), one line on stdout."""
    sys.stdout.write(json.dumps(report, sort_keys=True, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def command(name: str | None = None) -> Callable[[F], F]:
    """Register a command; the library's named errors become one line and exit code 1."""

    def register(fn: F) -> F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except ContactEventsError as e:
                if kwargs.get("json_output"):
                    error = {"type": type(e).__name__, "message": flatten(e)}
                    emit({"ok": False, "error": error})
                fail(e)

        app.command(name)(run)
        return fn

    return register


def fail(error: ContactEventsError) -> None:
    message = Text("error: ", style="bold red")
    message.append(one_line(error))
    err.print(message, soft_wrap=True)
    raise typer.Exit(1)


def incremental_option(text: str) -> Any:
    """`--incremental`: ask for an incremental run (builder.stages.strategy decides, and says)."""
    return Annotated[bool, typer.Option("--incremental", help=text)]


JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON report on stdout instead of text.")
]


def settings() -> Settings:
    from .engine import check_settings

    conf = load_settings()  # a bad environment / toml value: one ConfigError line
    check_settings(conf)  # the engine's settings, and names nothing reads
    if not STATE["level_given"]:
        logging.getLogger().setLevel(conf.log_level)
    return conf


def say(text: str) -> None:
    """One line of the command's own output, printed as it is (no markup)."""
    out.print(text, markup=False, emoji=False, soft_wrap=True)


@contextmanager
def progress_bar() -> Iterator[Progress]:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        yield progress


def row_counter(progress: Progress) -> Callable[[str, int], None]:
    tasks: dict[str, object] = {}

    def advance(label: str, n: int) -> None:
        if label not in tasks:
            tasks[label] = progress.add_task(label, total=None)
        progress.advance(tasks[label], n)  # type: ignore[arg-type]

    return advance


def step_counter(progress: Progress, total: int, label: str) -> Callable[[str], None]:
    """Advance a bar of `total` steps, shown from the first step on."""
    tasks: dict[str, Any] = {}

    def advance(step: str) -> None:
        if not tasks:
            tasks[label] = progress.add_task(label, total=total)
        progress.update(tasks[label], advance=1, description=f"{label}: {step}")

    return advance


def print_build_report(report) -> None:  # noqa: ANN001 - builder.stages.build.BuildReport
    title = f"{report.mode} build {report.build_id[:12]} on {report.warehouse} ({report.profile})"
    table = Table(title=Text(title))
    table.add_column("source_system")
    table.add_column("ledger rows", justify="right")
    table.add_column("duplicates", justify="right")
    table.add_column("errors", justify="right")
    table.add_column("orphans", justify="right")
    for system, n in report.ledger_rows.items():
        rejects = report.rejects_by_source.get(system, {})
        orphans = sum(k for r, k in rejects.items() if r in WARNING_REASONS)
        errors = sum(rejects.values()) - orphans
        dupes = report.duplicates.get(system, 0)
        table.add_row(Text(system), f"{n:,}", f"{dupes:,}", f"{errors:,}", f"{orphans:,}")
    out.print(table)
    if report.inputs:
        inputs = ", ".join(
            f"{i['input']} {i['rows']:,}" + ("" if i["used"] else " (ignored)")
            for i in report.inputs
        )
        say(f"inputs: {inputs}")
    if report.shapes:
        shapes = "; ".join(
            f"{s['kind']} ({s['field']}) flat {s['flat']:,}, nested {s['nested']:,}, "
            f"neither {s['neither']:,}"
            for s in report.shapes
        )
        say(f"payload shapes: {shapes}")
    if report.strategy:
        say(f"strategy: {report.strategy['name']} ({report.strategy['reason']})")
    for warning in report.warnings:
        say(f"warning: {warning}")
    reasons = ", ".join(f"{r} {n:,}" for r, n in report.rejects_by_reason.items())
    say(
        f"ledger rows {report.total_rows:,}; contacts {report.contacts:,}; "
        f"rejects by reason: {reasons}; {report.seconds:.2f}s"
    )


def print_sync_report(report) -> None:  # noqa: ANN001 - builder.stages.sync.SyncReport
    rows = ", ".join(f"{t} {n:,}" for t, n in report.rows.items())
    say(
        f"{report.mode} sync of {report.mirror_path} (build {report.build_id[:12]}): {rows}; "
        f"{report.seconds:.2f}s ({report.rows_per_second:,.0f} rows/s)"
    )
    if report.note:
        say(f"warning: {report.note}")


def print_validation(summary: dict) -> None:
    """One line for builder.validate's summary (the full one is in ledger_builds)."""
    verdict = "passed" if summary.get("ok") else "FAILED"
    say(
        f"validation {verdict}: {summary.get('events_checked', 0):,} events, "
        f"{summary.get('rejects_checked', 0):,} rejects, "
        f"{summary.get('contacts_checked', 0):,} contacts checked against "
        f"{summary.get('scope') or 'the raw canonicals'}; {summary.get('errors', 0)} errors; "
        f"{summary.get('seconds', 0):.1f}s"
    )


def build_steps() -> int:
    """How many steps a build runs (the progress bar's total)."""
    from .stages.build import STEP_COUNT

    return STEP_COUNT


def sync_json(report) -> dict[str, Any]:  # noqa: ANN001 - builder.stages.sync.SyncReport
    return {**asdict(report), "rows_per_second": round(report.rows_per_second, 1)}


def build_json(report) -> dict[str, Any]:  # noqa: ANN001 - builder.stages.build.BuildReport
    return {
        **asdict(report),
        "total_rows": report.total_rows,
        "error_rejects": report.error_rejects,
    }


@command()
def load(
    directory: Annotated[Path, typer.Argument(help="Folder with <table>.jsonl files.")],
) -> None:
    """Load DIR/<table>.jsonl into the warehouse's canonical tables (replacing them)."""
    from .stages.load import load_directory
    from .stages.lock import writer_session
    from .stages.profiles import profile_of

    conf = settings()
    profile = profile_of(conf)
    with writer_session(conf, "load") as wh, progress_bar() as progress:
        report = load_directory(wh, directory, progress=row_counter(progress), profile=profile)
    rows = ", ".join(f"{t} {n:,}" for t, n in report.rows.items())
    say(f"loaded {rows} into {wh.kind} ({profile.name} profile); {report.seconds:.2f}s")
    if report.missing_files:
        say(f"missing (loaded as empty): {', '.join(report.missing_files)}")
    for table, fields in report.ignored_fields.items():
        say(f"ignored unknown fields in {table}: {', '.join(fields)}")
    for note in report.notes:
        say(note)


@command()
def build(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the SQL (and BigQuery's bytes estimate) only."),
    ] = False,
    incremental: incremental_option(
        "MERGE only records whose staged rows or contacts changed since the last build."
    ) = False,
    json_output: JsonOption = False,
) -> None:
    """Rebuild the ledger and rejects in the warehouse and print the report."""
    from .engine import open_warehouse
    from .stages.build import build as do_build
    from .stages.build import dry_run_statements
    from .stages.lock import writer_session
    from .stages.strategy import plan

    conf = settings()
    if dry_run:  # runs nothing, so takes no lock
        with open_warehouse(conf) as wh:
            statements = list(dry_run_statements(wh, conf))
        if json_output:
            emit(
                {
                    "ok": True,
                    "statements": [{"name": n, "sql": s, "estimate": e} for n, s, e in statements],
                }
            )
            return
        for name, statement, estimate in statements:
            say(f"-- {name}" + (f" ({estimate})" if estimate else ""))
            say(statement + ";\n")
        return
    with writer_session(conf, "build") as wh:
        strategy = plan(wh, "incremental" if incremental else "full")
        with progress_bar() as progress:
            report = do_build(
                wh, conf, strategy, progress=step_counter(progress, build_steps(), "build")
            )
    if json_output:
        emit({"ok": True, "build": build_json(report)})
    else:
        print_build_report(report)


@command()
def sync(
    incremental: incremental_option(
        "Upsert an incremental build's changes into the live mirror (one transaction)."
    ) = False,
    json_output: JsonOption = False,
) -> None:
    """Copy ledger, rejects and contacts into a new SQLite mirror and swap it in."""
    from .stages.lock import writer_session
    from .stages.strategy import plan
    from .stages.sync import sync as do_sync

    conf = settings()
    with writer_session(conf, "sync") as wh:
        asked = "incremental" if incremental else "full"
        strategy = plan(wh, asked, conf.mirror_path, built=True)
        with progress_bar() as progress:
            report = do_sync(wh, conf.mirror_path, strategy, progress=row_counter(progress))
    if json_output:
        emit({"ok": True, "sync": sync_json(report)})
    else:
        print_sync_report(report)


@command()
def run(
    max_errors: Annotated[
        int | None,
        typer.Option(
            envvar="CONTACT_EVENTS_MAX_ERRORS",
            show_envvar=True,
            metavar="N",
            help="Fail (keeping the last good mirror) when error rejects exceed N.",
        ),
    ] = None,
    validate: Annotated[
        bool, typer.Option(help="Validate the new mirror before it replaces the old one.")
    ] = True,
    incremental: incremental_option(
        "Incremental build + sync, except a full one when the last is 7+ days old."
    ) = False,
    json_output: JsonOption = False,
) -> None:
    """The daily pipeline: build, sync, validate. Non-zero exit on any failure."""
    from .pipeline import rebuild

    conf = settings()
    started = time.perf_counter()
    with progress_bar() as progress:
        report = rebuild(
            conf,
            max_errors=max_errors,
            validate=validate,
            on_build_step=step_counter(progress, build_steps(), "build"),
            on_sync_rows=row_counter(progress),
            mode="incremental" if incremental else "full",
        )
    seconds = round(time.perf_counter() - started, 3)
    if json_output:
        emit(
            {
                "ok": True,
                "build": build_json(report.build),
                "sync": sync_json(report.sync),
                "validation": report.sync.validation,
                "strategy": report.strategy.to_dict(),
                "seconds": seconds,
            }
        )
        return
    print_build_report(report.build)
    print_sync_report(report.sync)
    if report.sync.validation is not None:
        print_validation(report.sync.validation)
    say(f"pipeline done in {seconds:.2f}s")


def known_contacts(warehouse) -> set[str]:  # noqa: ANN001 - a Warehouse
    """The contact ids of the last build (proj_contacts), for `validate --contact`."""
    from .core.contract import CONTACTS_TABLE

    if not warehouse.table_exists(CONTACTS_TABLE):
        raise ContactEventsError(
            "no build in the warehouse to validate yet; run `contact-events build` first"
        )
    return {
        v
        for batch in warehouse.read_batches(CONTACTS_TABLE, ["contact_id"])
        for v in batch.column(0).to_pylist()
        if v
    }


@command()
def validate(
    contact: Annotated[
        list[str] | None,
        typer.Option(
            "--contact", metavar="ID", help="Check this contact (repeatable); prints its timeline."
        ),
    ] = None,
    sample: Annotated[
        int | None, typer.Option(metavar="N", min=1, help="Check N random contacts.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Check every contact (default).")] = False,
    mirror: Annotated[bool, typer.Option(help="Also compare the SQLite mirror.")] = True,
    json_output: JsonOption = False,
) -> None:
    """Compare the ledger (warehouse and mirror) with the raw canonicals, independently."""
    from . import validate as v
    from .engine import adapter, open_warehouse
    from .stages.lock import writer_lock

    if sample is not None and all_:
        raise ContactEventsError("--sample N and --all contradict each other; pass one of them")
    if contact and (sample is not None or all_):
        raise ContactEventsError("--contact checks the contacts named; drop --sample / --all")
    conf = settings()
    mirror_path = conf.mirror_path if mirror and Path(conf.mirror_path).exists() else None
    # An engine whose file one process writes or several read: validate reads it under
    # the writers' lock, so a writer that starts meanwhile gets a clear BusyError.
    single = adapter(conf.warehouse).capabilities.single_process_file
    lock = writer_lock(conf, "validate") if single else nullcontext()
    with lock, open_warehouse(conf, read_only=True) as wh:
        if contact:
            known = known_contacts(wh)
            unknown = [c for c in dict.fromkeys(contact) if c not in known]
            if unknown:
                raise ContactEventsError(
                    f"unknown contact {', '.join(map(repr, unknown))}: not in the contacts "
                    "of the last build"
                )
        result = v.validate(
            wh, conf, mirror_path, contacts=contact or None, sample=None if all_ else sample
        )
    if json_output:
        emit({"ok": result.ok, "validation": result.to_dict(listed=len(result.findings))})
    else:
        wide = make_console(min_width=150)  # ids never wrap in the side-by-side table
        for contact_id in contact or []:
            v.render_timeline(result, contact_id, wide)
        v.render(result, wide)
    if not result.ok:
        raise typer.Exit(1)


@command()
def status(json_output: JsonOption = False) -> None:
    """What the mirror holds: its build, age, rows, rejects, validation and verification."""
    from .mirror.store import mirror_status

    conf = settings()
    path = Path(conf.mirror_path)
    try:
        found = mirror_status(path)
    except FileNotFoundError:
        raise ContactEventsError(
            f"no mirror at {path}; `contact-events run` (or build + sync) makes one"
        ) from None
    except sqlite3.Error as e:
        raise ContactEventsError(f"{path} cannot be read as a mirror: {e}") from None
    verification = found["verification"]
    ok = bool(verification["ok"]) and found["build"] is not None
    if json_output:
        emit({"ok": ok, **found})
    else:
        build = found["build"] or {}
        say(f"mirror: {path}")
        if build:
            say(
                f"build {build.get('build_id')} ({build.get('mode')}, {build.get('profile')} "
                f"profile, {build.get('warehouse')}): built {build.get('built_at')} UTC, "
                f"synced {build.get('synced_at')} UTC, {found['mirror_age_seconds']:,.0f}s ago"
            )
        rows = ", ".join(f"{s} {n:,}" for s, n in found["rows_by_source"].items())
        say(f"ledger rows: {rows or 'none'}")
        reasons = ", ".join(f"{r} {n:,}" for r, n in found["rejects_by_reason"].items())
        say(f"rejects by reason: {reasons or 'none'}")
        validation = build.get("validation")
        if isinstance(validation, dict):
            print_validation(validation)
        else:
            say("validation: not validated when synced")
        if verification["ok"]:
            say(f"verified: quick_check ok ({verification['seconds']:.2f}s)")
        else:
            say(f"NOT VERIFIED: {path} {verification['problem']}")
    if not ok:
        raise typer.Exit(1)


@command()
def doctor(json_output: JsonOption = False) -> None:
    """Check the setup: settings and where each came from, warehouse, tables, mirror, lock."""
    from .doctor import diagnose

    checks, conf = diagnose()
    failed = [c for c in checks if c.status == "fail"]
    if json_output:
        emit(
            {
                "ok": not failed,
                "settings": conf["settings"] if conf else None,
                "checks": [asdict(c) for c in checks],
            }
        )
    else:
        if conf:
            table = Table(title=Text("settings"))
            table.add_column("setting")
            table.add_column("value")
            table.add_column("from")
            for name, (value, origin) in conf["settings"].items():
                shown = json.dumps(value) if not isinstance(value, str) else value
                table.add_row(Text(variable_name(name)), Text(shown), Text(origin))
            out.print(table)
        for check in checks:
            mark = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}[check.status]
            timing = f" ({check.seconds:.2f}s)" if check.seconds is not None else ""
            say(f"{mark}  {check.name}: {check.detail}{timing}")
        say("all checks passed" if not failed else f"{len(failed)} check(s) failed")
    if failed:
        raise typer.Exit(1)


@command("demo-data")
def demo_data(
    directory: Annotated[Path, typer.Argument(help="Folder to write <table>.jsonl into.")],
    contacts: Annotated[int, typer.Option(metavar="N", help="Number of contacts.")] = 600,
    events: Annotated[
        int, typer.Option(metavar="N", help="Approximate number of events.")
    ] = 24_000,
    seed: Annotated[int, typer.Option(metavar="S", help="Random seed (same seed, same data).")] = 7,
    profile: ProfileOption = DemoProfile.flat,
) -> None:
    """Write a synthetic practice (with every data trap the rules handle) as JSONL."""
    from .demo.flat import PRACTICE_EMAILS, DemoSize
    from .demo.run import DEMO_CONFIG, practice_toml, write_demo

    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task("demo data", total=events)
        counts = write_demo(
            profile,
            directory,
            DemoSize(contacts=contacts, events=events, seed=seed),
            lambda n: progress.advance(task, n),
        )
    settings_file = directory / DEMO_CONFIG
    settings_file.write_text(practice_toml(list(PRACTICE_EMAILS), profile), encoding="utf-8")
    rows = ", ".join(f"{t} {n:,}" for t, n in counts.items())
    say(f"wrote {rows} to {directory}; {time.perf_counter() - started:.2f}s")
    say(f"practice addresses: {', '.join(PRACTICE_EMAILS)} (in {settings_file})")
    say(
        f"load and build it with them: contact-events --config {settings_file} load "
        f"{directory} && contact-events --config {settings_file} build"
    )


@command()
def serve(
    host: Annotated[str, typer.Option(metavar="HOST", help="Interface to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(metavar="PORT", help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="WEB_CONCURRENCY",
            show_envvar=True,
            metavar="N",
            help="Worker processes (they share the rebuild jobs).",
        ),
    ] = 1,
) -> None:
    """Serve the read API over the SQLite mirror."""
    conf = settings()  # a bad setting is one line before anything starts
    from contact_events.app.http.serve import serve as do_serve

    do_serve(conf, host=host, port=port, workers=workers, log_level=STATE.get("level"))


def check_port(host: str, port: int) -> None:
    """ContactEventsError now, rather than after the build, when host:port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind((host, port))
        except OSError as e:
            raise ContactEventsError(
                f"cannot serve on {host}:{port}: {e.strerror or e}; pass --port N "
                "(or stop what is using it)"
            ) from None


@command()
def demo(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            metavar="DIR",
            help="Where demo files go (default ./data/demo, ./data/demo-lorchestra).",
        ),
    ] = None,
    profile: ProfileOption = DemoProfile.flat,
    contacts: Annotated[int, typer.Option(metavar="N", help="Number of contacts.")] = 600,
    events: Annotated[
        int, typer.Option(metavar="N", help="Approximate number of events.")
    ] = 24_000,
    host: Annotated[str, typer.Option(metavar="HOST", help="Interface to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(metavar="PORT", help="TCP port.")] = 8000,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the API.")] = True,
    reuse: Annotated[
        bool | None,
        typer.Option(
            "--reuse/--fresh",
            help="Serve the demo mirror already in --dir / build a new one "
            "(default: reuse it when there is one).",
        ),
    ] = None,
) -> None:
    """Demo data -> load -> build -> sync -> serve, printing the URL and a token."""
    from .demo.flat import DemoSize
    from .demo.run import Progress, demo_directory, prepare_demo

    directory = directory if directory is not None else demo_directory(profile)
    if serve_api:
        check_port(host, port)
    with progress_bar() as bar:
        tasks: dict[str, Any] = {}

        def data(n: int) -> None:  # the bar appears once data is being written
            if not tasks:
                tasks["data"] = bar.add_task("demo data", total=events)
            bar.advance(tasks["data"], n)

        made = prepare_demo(
            directory,
            profile,
            DemoSize(contacts=contacts, events=events),
            reuse,
            Progress(data, row_counter(bar), step_counter(bar, build_steps(), "build")),
        )
    conf, settings_file, token, admin = made.settings, made.settings_file, made.token, made.admin
    if made.report is None:
        say(f"serving the demo mirror already in {directory} (--fresh builds a new one)")
    else:
        print_build_report(made.report.build)
        print_sync_report(made.report.sync)
        print_validation(made.report.sync.validation or {})
        say(f"demo ready in {made.seconds:.1f}s")
    base = f"http://{host}:{port}"
    again = f"contact-events --config {settings_file} serve --host {host} --port {port}"
    say(
        f"\n  API:   {base}\n  docs:  {base}/docs\n  pages: {base}/ui/ (sign in with the token)\n"
        f"  token: {token}\n"
        f"  admin: {admin}\n  (tokens kept in {settings_file}, readable by you only)\n\n"
        f"  curl -H 'Authorization: Bearer {token}' '{base}/contacts/needs-form?days=14'\n"
        f"  curl -H 'Authorization: Bearer {token}' '{base}/status'\n\n"
        f"  serve it again: {again}\n"
        f"             or: contact-events demo --dir {directory} --port {port}"
        + (f" --profile {profile.value}" if profile is not DemoProfile.flat else "")
        + "\n"
    )
    if not serve_api:
        return
    from contact_events.app.http.serve import serve as do_serve

    do_serve(conf, host=host, port=port, log_level=STATE.get("level"))


if __name__ == "__main__":  # pragma: no cover
    app()

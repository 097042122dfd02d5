"""`contact-events`: a thin Typer shell over the builder library.

Each command calls the library, shows progress on stderr, and ends with one summary of
what it did. Library errors (builder.errors) become a one-line message and exit code 1
(`@command`); anything else is a bug and keeps its traceback. Values and file names are
printed as data: never through Rich markup or emoji codes.
"""

from __future__ import annotations

import functools
import logging
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from builder.config import Settings
from builder.contract import WARNING_REASONS
from builder.errors import ContactEventsError

app = typer.Typer(
    help="Operational event ledger of a psychology practice: build, sync, validate, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(emoji=False, highlight=False)
err = Console(stderr=True, emoji=False, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])


@app.callback()
def main(
    show_sql: Annotated[
        bool, typer.Option("--show-sql", help="Print every SQL statement before it runs.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More log output.")] = False,
) -> None:
    """Settings come from CONTACT_EVENTS_* variables or ./contact-events.toml."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if show_sql:
        sql_log = logging.getLogger("contact_events.sql")
        sql_log.setLevel(logging.DEBUG)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        sql_log.addHandler(handler)
        sql_log.propagate = False


def command(name: str | None = None) -> Callable[[F], F]:
    """Register a command; the library's named errors become one line and exit code 1."""

    def register(fn: F) -> F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except ContactEventsError as e:
                fail(e)

        app.command(name)(run)
        return fn

    return register


def fail(error: ContactEventsError) -> None:
    message = Text("error: ", style="bold red")
    message.append(f"{type(error).__name__}: {error}")
    err.print(message, soft_wrap=True)
    raise typer.Exit(1)


def settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as e:  # bad environment / toml value: one line per setting
        problems = "; ".join(
            f"CONTACT_EVENTS_{'_'.join(map(str, err['loc'])).upper()}: "
            f"{err['msg'].removeprefix('Value error, ')}"
            for err in e.errors()
        )
        raise ContactEventsError(f"bad configuration: {problems}") from None


def say(text: str) -> None:
    """One line of the command's own output, printed as it is (no markup)."""
    out.print(text, markup=False, soft_wrap=True)


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
    task = progress.add_task(label, total=total)

    def advance(step: str) -> None:
        progress.update(task, advance=1, description=f"{label}: {step}")

    return advance


def print_build_report(report) -> None:  # noqa: ANN001 - builder.build.BuildReport
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
    if report.strategy:
        say(f"strategy: {report.strategy['name']} ({report.strategy['reason']})")
    for warning in report.warnings:
        say(f"warning: {warning}")
    reasons = ", ".join(f"{r} {n:,}" for r, n in report.rejects_by_reason.items())
    say(
        f"ledger rows {report.total_rows:,}; contacts {report.contacts:,}; "
        f"rejects by reason: {reasons}; {report.seconds:.2f}s"
    )


def print_sync_report(report) -> None:  # noqa: ANN001 - builder.sync.SyncReport
    rows = ", ".join(f"{t} {n:,}" for t, n in report.rows.items())
    say(
        f"{report.mode} sync of {report.mirror_path} (build {report.build_id[:12]}): {rows}; "
        f"{report.seconds:.2f}s ({report.rows_per_second:,.0f} rows/s)"
    )


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


def build_steps(conf: Settings, incremental: bool) -> int:
    """How many steps a build runs (the progress bar's total)."""
    from builder.profiles import profile_of

    # begin, bootstrap, stage_begin, a step per source, contacts; resolve: events,
    # contacts, changed, resolve; publish; remember
    return len(profile_of(conf).sources) + 10


@command()
def load(
    directory: Annotated[Path, typer.Argument(help="Folder with <table>.jsonl files.")],
) -> None:
    """Load DIR/<table>.jsonl into the warehouse's canonical tables (replacing them)."""
    from builder.load import load_directory
    from builder.lock import writer_lock
    from builder.profiles import profile_of
    from builder.warehouse import open_warehouse

    conf = settings()
    profile = profile_of(conf)
    with writer_lock(conf, "load"), progress_bar() as progress, open_warehouse(conf) as wh:
        report = load_directory(wh, directory, progress=row_counter(progress), profile=profile)
    rows = ", ".join(f"{t} {n:,}" for t, n in report.rows.items())
    say(f"loaded {rows} into {wh.kind} ({profile.name} profile); {report.seconds:.2f}s")
    if report.missing_files:
        say(f"missing (loaded as empty): {', '.join(report.missing_files)}")
    for table, fields in report.ignored_fields.items():
        say(f"ignored unknown fields in {table}: {', '.join(fields)}")


@command()
def build(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the SQL (and BigQuery's bytes estimate) only."),
    ] = False,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="MERGE only records whose staged rows or contacts changed since the last build.",
        ),
    ] = False,
) -> None:
    """Rebuild the ledger and rejects in the warehouse and print the report."""
    from builder.build import build as do_build
    from builder.build import decide_strategy, dry_run_statements
    from builder.lock import writer_lock
    from builder.warehouse import open_warehouse

    conf = settings()
    if dry_run:  # runs nothing, so takes no lock
        with open_warehouse(conf) as wh:
            for name, statement, estimate in dry_run_statements(wh, conf):
                say(f"-- {name}" + (f" ({estimate})" if estimate else ""))
                say(statement + ";\n")
        return
    with writer_lock(conf, "build"), open_warehouse(conf) as wh:
        strategy = decide_strategy(wh, incremental)
        with progress_bar() as progress:
            report = do_build(
                wh,
                conf,
                progress=step_counter(
                    progress, build_steps(conf, strategy.build == "incremental"), "build"
                ),
                strategy=strategy,
            )
    print_build_report(report)


@command()
def sync(
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="Upsert an incremental build's changes into the live mirror (one transaction).",
        ),
    ] = False,
) -> None:
    """Copy ledger, rejects and contacts into a new SQLite mirror and swap it in."""
    from builder.lock import writer_lock
    from builder.sync import sync as do_sync
    from builder.warehouse import open_warehouse

    conf = settings()
    with writer_lock(conf, "sync"), progress_bar() as progress, open_warehouse(conf) as wh:
        report = do_sync(
            wh, conf.mirror_path, progress=row_counter(progress), incremental=incremental
        )
    print_sync_report(report)


@command()
def run(
    max_errors: Annotated[
        int | None,
        typer.Option(help="Fail (keeping the last good mirror) when error rejects exceed N."),
    ] = None,
    validate: Annotated[
        bool, typer.Option(help="Validate the new mirror before it replaces the old one.")
    ] = True,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="Incremental build + sync, except a full one when the last is 7+ days old.",
        ),
    ] = False,
) -> None:
    """The daily pipeline: build, sync, validate. Non-zero exit on any failure."""
    from builder.pipeline import rebuild

    conf = settings()
    started = time.perf_counter()
    with progress_bar() as progress:
        report = rebuild(
            conf,
            max_errors=max_errors,
            validate=validate,
            on_build_step=step_counter(progress, build_steps(conf, incremental), "build"),
            on_sync_rows=row_counter(progress),
            incremental=incremental,
        )
    print_build_report(report.build)
    print_sync_report(report.sync)
    if report.sync.validation is not None:
        print_validation(report.sync.validation)
    say(f"pipeline done in {time.perf_counter() - started:.2f}s")


@command()
def validate(
    contact: Annotated[
        list[str] | None,
        typer.Option("--contact", help="Check this contact (repeatable); prints its timeline."),
    ] = None,
    sample: Annotated[int | None, typer.Option(help="Check N random contacts.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Check every contact (default).")] = False,
    mirror: Annotated[bool, typer.Option(help="Also compare the SQLite mirror.")] = True,
) -> None:
    """Compare the ledger (warehouse and mirror) with the raw canonicals, independently."""
    from builder import validate as v
    from builder.warehouse import open_warehouse

    conf = settings()
    mirror_path = conf.mirror_path if mirror and Path(conf.mirror_path).exists() else None
    with open_warehouse(conf) as wh:
        result = v.validate(
            wh, conf, mirror_path, contacts=contact or None, sample=None if all_ else sample
        )
    wide = Console(width=max(out.width, 150), emoji=False, highlight=False)
    for contact_id in contact or []:
        v.render_timeline(result, contact_id, wide)
    v.render(result, wide)
    if not result.ok:
        raise typer.Exit(1)


@command("demo-data")
def demo_data(
    directory: Annotated[Path, typer.Argument(help="Folder to write <table>.jsonl into.")],
    contacts: Annotated[int, typer.Option(help="Number of contacts.")] = 600,
    events: Annotated[int, typer.Option(help="Approximate number of events.")] = 24_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
) -> None:
    """Write a synthetic practice (with every data trap the rules handle) as JSONL."""
    from builder.demo_data import DemoSize, write_demo_data

    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task("demo data", total=events)
        counts = write_demo_data(
            directory,
            DemoSize(contacts=contacts, events=events, seed=seed),
            progress=lambda n: progress.advance(task, n),
        )
    rows = ", ".join(f"{t} {n:,}" for t, n in counts.items())
    say(f"wrote {rows} to {directory}; {time.perf_counter() - started:.2f}s")


@command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1, envvar="WEB_CONCURRENCY", help="Worker processes (they share the rebuild jobs)."
        ),
    ] = 1,
) -> None:
    """Serve the read API over the SQLite mirror."""
    from app.serve import serve as do_serve

    do_serve(settings(), host=host, port=port, workers=workers)


@command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where demo files go.")] = Path(
        "./data/demo"
    ),
    contacts: Annotated[int, typer.Option(help="Number of contacts.")] = 600,
    events: Annotated[int, typer.Option(help="Approximate number of events.")] = 24_000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the API.")] = True,
) -> None:
    """Demo data -> load -> build -> sync -> serve, printing the URL and a token."""
    from builder.demo_data import PRACTICE_EMAILS, DemoSize, write_demo_data
    from builder.load import load_directory
    from builder.lock import writer_lock
    from builder.pipeline import rebuild
    from builder.warehouse import open_warehouse

    directory.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    admin = secrets.token_urlsafe(24)
    conf = Settings(
        warehouse="duckdb",
        duckdb_path=directory / "warehouse.duckdb",
        mirror_path=directory / "contact_events.db",
        practice_emails=list(PRACTICE_EMAILS),
        api_tokens=[token],
        admin_token=admin,
    )
    started = time.perf_counter()
    with progress_bar() as progress:
        # The files too are written under the lock: another demo in the same folder
        # would otherwise rewrite them while this one loads them.
        with writer_lock(conf, "write the demo"), open_warehouse(conf) as wh:
            task = progress.add_task("demo data", total=events)
            write_demo_data(
                directory / "canonicals",
                DemoSize(contacts=contacts, events=events),
                progress=lambda n: progress.advance(task, n),
            )
            load_directory(wh, directory / "canonicals", progress=row_counter(progress))
        report = rebuild(
            conf,
            validate=True,
            on_build_step=step_counter(progress, build_steps(conf, False), "build"),
            on_sync_rows=row_counter(progress),
        )
    print_build_report(report.build)
    print_sync_report(report.sync)
    print_validation(report.sync.validation or {})
    say(f"demo ready in {time.perf_counter() - started:.1f}s")
    if not serve_api:
        return
    base = f"http://{host}:{port}"
    say(
        f"\n  API:   {base}\n  docs:  {base}/docs\n  token: {token}\n"
        f"  admin: {admin}\n\n"
        f"  curl -H 'Authorization: Bearer {token}' '{base}/contacts/needs-form?days=14'\n"
        f"  curl -H 'Authorization: Bearer {token}' '{base}/status'\n"
    )
    from app.serve import serve as do_serve

    do_serve(conf, host=host, port=port)


if __name__ == "__main__":  # pragma: no cover
    app()

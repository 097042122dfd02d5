"""`contact-events`: a thin Typer shell over the builder library.

Each command calls one library function, shows progress on stderr, and ends with one
summary of what it did. Library errors (builder.errors) become a one-line message and
exit code 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from builder.config import Settings
from builder.contract import WARNING_REASONS
from builder.errors import ContactEventsError

app = typer.Typer(
    help="Operational event ledger of a psychology practice: build, sync, validate, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


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


def run_command(fn: Callable[[], None]) -> None:
    """Turn the library's named errors into a clear message and exit code 1."""
    try:
        fn()
    except ContactEventsError as e:
        err.print(f"[bold red]error:[/] {type(e).__name__}: {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


@contextmanager
def progress_bar() -> Iterator[Progress]:
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
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
    title = f"{report.mode} build {report.build_id[:12]} on {report.warehouse}"
    table = Table(title=title)
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
        table.add_row(system, f"{n:,}", f"{dupes:,}", f"{errors:,}", f"{orphans:,}")
    out.print(table)
    reasons = ", ".join(f"{r} {n:,}" for r, n in report.rejects_by_reason.items())
    out.print(
        f"ledger rows {report.total_rows:,}; contacts {report.contacts:,}; "
        f"rejects by reason: {reasons}; {report.seconds:.2f}s"
    )


def print_sync_report(report) -> None:  # noqa: ANN001 - builder.sync.SyncReport
    rows = ", ".join(f"{t} {n:,}" for t, n in report.rows.items())
    out.print(
        f"{report.mode} sync of {report.mirror_path} (build {report.build_id[:12]}): {rows}; "
        f"{report.seconds:.2f}s ({report.rows_per_second:,.0f} rows/s)"
    )


def print_validation(summary: dict) -> None:
    """One line for builder.validate's summary (the full one is in ledger_builds)."""
    verdict = "passed" if summary.get("ok") else "FAILED"
    out.print(
        f"validation {verdict}: {summary.get('events_checked', 0):,} events, "
        f"{summary.get('rejects_checked', 0):,} rejects, "
        f"{summary.get('contacts_checked', 0):,} contacts checked against the raw "
        f"canonicals; {summary.get('errors', 0)} errors; {summary.get('seconds', 0):.1f}s"
    )


@app.command()
def load(
    directory: Annotated[Path, typer.Argument(help="Folder with <table>.jsonl files.")],
) -> None:
    """Load DIR/<table>.jsonl into the warehouse's canonical tables (replacing them)."""

    def go() -> None:
        from builder.load import load_directory
        from builder.lock import writer_lock
        from builder.warehouse import open_warehouse

        conf = settings()
        with (
            writer_lock(conf, "load"),
            progress_bar() as progress,
            open_warehouse(conf) as wh,
        ):
            report = load_directory(wh, directory, progress=row_counter(progress))
        rows = ", ".join(f"{t} {n:,}" for t, n in report.rows.items())
        out.print(f"loaded {rows} into {wh.kind}; {report.seconds:.2f}s")
        if report.missing_files:
            out.print(f"missing (loaded as empty): {', '.join(report.missing_files)}")
        for table, fields in report.ignored_fields.items():
            out.print(f"ignored unknown fields in {table}: {', '.join(fields)}")

    run_command(go)


@app.command()
def build(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the SQL (and BigQuery's bytes estimate) only."),
    ] = False,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="MERGE only records changed since the last build (watermark + look-back).",
        ),
    ] = False,
) -> None:
    """Rebuild the ledger and rejects in the warehouse and print the report."""

    def go() -> None:
        from builder.build import STEPS, build, dry_run_statements
        from builder.lock import writer_lock
        from builder.warehouse import open_warehouse

        conf = settings()
        if dry_run:  # runs nothing, so takes no lock
            with open_warehouse(conf) as wh:
                for name, statement, estimate in dry_run_statements(wh, conf):
                    out.print(f"-- {name}" + (f" ({estimate})" if estimate else ""))
                    out.print(statement + ";\n", highlight=False, markup=False, soft_wrap=True)
            return
        with writer_lock(conf, "build"), open_warehouse(conf) as wh:
            with progress_bar() as progress:
                report = build(
                    wh,
                    conf,
                    progress=step_counter(progress, len(STEPS), "build"),
                    incremental=incremental,
                )
        print_build_report(report)

    run_command(go)


@app.command()
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

    def go() -> None:
        from builder.lock import writer_lock
        from builder.sync import sync as do_sync
        from builder.warehouse import open_warehouse

        conf = settings()
        with writer_lock(conf, "sync"), progress_bar() as progress, open_warehouse(conf) as wh:
            report = do_sync(
                wh, conf.mirror_path, progress=row_counter(progress), incremental=incremental
            )
        print_sync_report(report)

    run_command(go)


@app.command()
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

    def go() -> None:
        nonlocal incremental
        from builder.build import STEPS
        from builder.pipeline import full_rebuild_due, rebuild

        conf = settings()
        started = time.perf_counter()
        if incremental and full_rebuild_due(conf.mirror_path):
            out.print("last full rebuild is 7+ days old (or none): running a full one")
            incremental = False
        with progress_bar() as progress:
            report = rebuild(
                conf,
                max_errors=max_errors,
                validate=validate and not incremental,
                on_build_step=step_counter(progress, len(STEPS), "build"),
                on_sync_rows=row_counter(progress),
                incremental=incremental,
            )
        print_build_report(report.build)
        print_sync_report(report.sync)
        if report.sync.validation is not None:
            print_validation(report.sync.validation)
        out.print(f"pipeline done in {time.perf_counter() - started:.2f}s")

    run_command(go)


@app.command()
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

    def go() -> None:
        from builder import validate as v
        from builder.warehouse import open_warehouse

        conf = settings()
        mirror_path = conf.mirror_path if mirror and Path(conf.mirror_path).exists() else None
        with open_warehouse(conf) as wh:
            result = v.validate(
                wh, conf, mirror_path, contacts=contact or None, sample=None if all_ else sample
            )
        wide = Console(width=max(out.width, 150))  # side-by-side tables need the room
        for contact_id in contact or []:
            v.render_timeline(result, contact_id, wide)
        v.render(result, wide)
        if not result.ok:
            raise typer.Exit(1)

    run_command(go)


@app.command("demo-data")
def demo_data(
    directory: Annotated[Path, typer.Argument(help="Folder to write <table>.jsonl into.")],
    contacts: Annotated[int, typer.Option(help="Number of contacts.")] = 600,
    events: Annotated[int, typer.Option(help="Approximate number of events.")] = 24_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
) -> None:
    """Write a synthetic practice (with every data trap the rules handle) as JSONL."""

    def go() -> None:
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
        out.print(f"wrote {rows} to {directory}; {time.perf_counter() - started:.2f}s")

    run_command(go)


@app.command()
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

    def go() -> None:
        from app.serve import serve as do_serve

        conf = settings()
        if not conf.api_tokens:
            raise ContactEventsError(
                "no API tokens: set CONTACT_EVENTS_API_TOKENS (or use `contact-events demo`)"
            )
        do_serve(conf, host=host, port=port, workers=workers)

    run_command(go)


@app.command()
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

    def go() -> None:
        from builder.build import STEPS
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
                on_build_step=step_counter(progress, len(STEPS), "build"),
                on_sync_rows=row_counter(progress),
            )
        print_build_report(report.build)
        print_sync_report(report.sync)
        print_validation(report.sync.validation or {})
        out.print(f"demo ready in {time.perf_counter() - started:.1f}s")
        if not serve_api:
            return
        base = f"http://{host}:{port}"
        out.print(
            f"\n  API:   {base}\n  docs:  {base}/docs\n  token: {token}\n"
            f"  admin: {admin}\n\n"
            f"  curl -H 'Authorization: Bearer {token}' '{base}/contacts/needs-form?days=14'\n"
            f"  curl -H 'Authorization: Bearer {token}' '{base}/status'\n",
            highlight=False,
            soft_wrap=True,
        )
        from app.serve import serve as do_serve

        do_serve(conf, host=host, port=port)

    run_command(go)


if __name__ == "__main__":  # pragma: no cover
    app()

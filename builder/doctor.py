"""`contact-events doctor`: is this setup able to run? (dbt's `debug` is the model.)

Each check is one line with a status: the settings load (each with its value, tokens
redacted, and where it came from), the profile's source files parse, the BigQuery extra is
installed when the warehouse is BigQuery, the warehouse answers (and how long it took),
the profile's canonical tables exist (with row counts), the practice's own addresses are
set when there are email sources, the mirror verifies (its build and age), and who holds
the writers' lock. `fail` makes the command exit 1; `warn` does not.

Nothing is written: the warehouse is opened read-only (DuckDB) and the lock is only probed.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .core.errors import ContactEventsError


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    seconds: float | None = None


def diagnose() -> tuple[list[Check], dict[str, Any] | None]:
    """(the checks, {"settings": {name: (value, origin)}} or None when settings fail)."""
    from .core.config import config_file, load_settings
    from .engine import check_settings, engine_settings

    checks: list[Check] = []
    try:
        path, _ = config_file()
        conf = load_settings()
        check_settings(conf)
        engine = engine_settings(conf).model_dump()
    except ContactEventsError as e:
        return [Check("settings", "fail", str(e))], None
    values = {**conf.redacted(), **conf.redacted(engine)}
    origins = conf.origins(values)
    settings = {name: (values[name], origins[name]) for name in values}
    source = f"from {path} and the environment" if path else "from the environment"
    checks.append(Check("settings", "ok", f"loaded {source}"))

    from .stages.profiles import profile_of

    try:
        profile = profile_of(conf)
        checks.append(
            Check(
                "profile",
                "ok",
                f"{profile.name}: {len(profile.sources)} sources "
                f"({', '.join(profile.event_types)}) in {profile.folder}",
            )
        )
    except ContactEventsError as e:
        checks.append(Check("profile", "fail", str(e)))
        profile = None

    if profile is not None and any(s.event_type == "email" for s in profile.sources):
        if conf.practice_emails:
            checks.append(Check("practice emails", "ok", f"{len(conf.practice_emails)} addresses"))
        else:
            checks.append(
                Check(
                    "practice emails",
                    "warn",
                    "CONTACT_EVENTS_PRACTICE_EMAILS is not set: every email counts as inbound",
                )
            )

    checks += _warehouse_checks(conf, profile)
    checks.append(_mirror_check(conf))
    checks.append(_lock_check(conf))
    return checks, {"settings": settings}


def _warehouse_checks(conf: Any, profile: Any) -> list[Check]:
    from .engine import adapter, engine_settings, open_warehouse

    kind = adapter(conf.warehouse)
    engine = engine_settings(conf)
    where = kind.describe(engine)
    install = kind.missing()
    if install is not None:
        return [Check("warehouse", "fail", f"{where}: its libraries are an extra: {install}")]
    not_ready = kind.not_ready(engine)
    if not_ready is not None:
        return [Check("warehouse", "fail", f"{where}: {not_ready}")]
    started = time.perf_counter()
    try:
        warehouse = open_warehouse(conf, read_only=True)
    except ContactEventsError as e:
        status = "warn" if type(e).__name__ == "BusyError" else "fail"
        return [Check("warehouse", status, f"{where}: {e}", time.perf_counter() - started)]
    checks = []
    try:
        tables = set(warehouse.tables())
        checks.append(Check("warehouse", "ok", f"{where} answers", time.perf_counter() - started))
        if profile is not None:
            checks.append(_tables_check(warehouse, profile, tables))
    except ContactEventsError as e:
        checks.append(Check("warehouse", "fail", f"{where}: {e}", time.perf_counter() - started))
    finally:
        warehouse.close()
    return checks


def _tables_check(warehouse: Any, profile: Any, tables: set[str]) -> Check:
    from .stages.build import tables_read

    wanted = sorted(profile.tables) if profile.tables else sorted(tables_read(profile))
    found, missing = [], []
    for table in wanted:
        if table in tables:
            found.append(f"{table} {warehouse.row_count(table):,}")
        else:
            missing.append(table)
    if missing:
        return Check(
            "canonical tables",
            "fail",
            f"missing {', '.join(missing)}"
            + (f"; found {', '.join(found)}" if found else "")
            + "; `contact-events load DIR` loads them",
        )
    return Check("canonical tables", "ok", ", ".join(found))


def _mirror_check(conf: Any) -> Check:
    from .mirror.store import mirror_status

    path = Path(conf.mirror_path)
    if not path.exists():
        return Check("mirror", "fail", f"no mirror at {path}; `contact-events run` makes one")
    started = time.perf_counter()
    try:
        found = mirror_status(path)
    except ContactEventsError as e:  # a damaged build row: the message names the file
        return Check("mirror", "fail", str(e))
    except (OSError, sqlite3.Error) as e:
        return Check("mirror", "fail", f"{path} cannot be read: {e}")
    verification = found["verification"]
    build = found["build"] or {}
    if not verification["ok"]:
        problem = f"{path} {verification['problem']}"
        return Check("mirror", "fail", problem, time.perf_counter() - started)
    age = found["mirror_age_seconds"]
    return Check(
        "mirror",
        "ok",
        f"{path}: build {build.get('build_id')} ({build.get('mode')}), synced "
        f"{build.get('synced_at')} UTC, {age:,.0f}s ago; quick_check ok",
        time.perf_counter() - started,
    )


def _lock_check(conf: Any) -> Check:
    from .stages.lock import holder, lock_path

    found = holder(conf)
    if found is None:
        return Check("writers' lock", "ok", f"free ({lock_path(conf)})")
    return Check(
        "writers' lock",
        "warn",
        f"held by `{found.get('doing')}` (pid {found.get('pid')} on {found.get('host')}, "
        f"since {found.get('since')})",
    )

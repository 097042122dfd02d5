"""`contact-events demo` and `demo-data` as a library: a synthetic practice in either
layout, its settings file, and the demo itself (data -> load -> build -> sync, with the
tokens kept in the demo's folder between runs). The CLI only shows progress, prints and
serves."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..core.config import Settings, read_config_file
from ..core.errors import ConfigError, ContactEventsError
from ..core.files import create_private, private_dir

DEMO_CONFIG = "contact-events.toml"


class DemoProfile(StrEnum):
    """The layouts demo data can be written in (CONTRACT §1 flat, §7 lorchestra)."""

    flat = "flat"
    lorchestra = "lorchestra"


def write_demo(
    profile: DemoProfile, directory: Path, size: Any, progress: Callable[[int], None]
) -> dict[str, int]:
    """The demo practice in the profile's layout (builder.demo.flat / demo_lorchestra)."""
    if profile is DemoProfile.lorchestra:
        from .lorchestra import write_lorchestra_demo_data

        return write_lorchestra_demo_data(directory, size, progress=progress)
    from .flat import write_demo_data

    return write_demo_data(directory, size, progress=progress)


def practice_toml(emails: list[str], profile: DemoProfile = DemoProfile.flat) -> str:
    """The settings file `demo-data` writes beside its data: the layout and addresses."""
    listed = ", ".join(json.dumps(e) for e in emails)
    return (
        "# The layout and the practice's own addresses (email direction) of this demo data:\n"
        "# contact-events --config THIS_FILE load DIR, then build, gives the demo's ledger.\n"
        f'profile = "{profile.value}"\n'
        f"practice_emails = [{listed}]\n"
    )


def demo_settings_text(
    directory: Path, token: str, admin: str, emails: list[str], profile: DemoProfile
) -> str:
    root = directory.resolve()
    return (
        "# contact-events demo settings. Owner-only: it holds the demo's tokens.\n"
        f"# Serve the demo again: contact-events --config {root / DEMO_CONFIG} serve\n"
        'warehouse = "duckdb"\n'
        f'profile = "{profile.value}"\n'
        f"duckdb_path = {json.dumps(str(root / 'warehouse.duckdb'))}\n"
        f"mirror_path = {json.dumps(str(root / 'contact_events.db'))}\n"
        f"practice_emails = [{', '.join(json.dumps(e) for e in emails)}]\n"
        f"api_tokens = {json.dumps(token)}\n"
        f"admin_token = {json.dumps(admin)}\n"
    )


def read_demo_settings(path: Path) -> dict[str, Any]:
    values = read_config_file(path)
    if not values.get("api_tokens") or not values.get("admin_token"):
        raise ConfigError(f"{path} holds no demo tokens; run `contact-events demo --fresh`")
    return values


def demo_directory(profile: DemoProfile) -> Path:
    """Where a demo goes unless told: ./data/demo, ./data/demo-<profile>."""
    return Path("./data") / ("demo" if profile is DemoProfile.flat else f"demo-{profile.value}")


@dataclass
class Demo:
    """A demo ready to serve: its folder, settings file, tokens and settings; `report`
    is the pipeline's (None when the demo already in the folder is served again)."""

    directory: Path
    settings_file: Path
    token: str
    admin: str
    settings: Settings
    report: Any = None  # builder.pipeline.PipelineReport
    seconds: float = 0.0


@dataclass
class Progress:
    """What the demo reports as it goes (the CLI draws them)."""

    data: Callable[[int], None] = lambda n: None  # rows of demo data written
    rows: Callable[[str, int], None] = lambda table, n: None  # rows loaded, synced
    build_step: Callable[[str], None] = lambda step: None


def prepare_demo(
    directory: Path,
    profile: DemoProfile,
    size: Any,
    reuse: bool | None,
    progress: Progress | None = None,
) -> Demo:
    """The demo in `directory`: reused when one is there (`reuse` None or True; True
    insists), else written afresh: tokens, settings file, data, load, build, sync."""
    from .flat import PRACTICE_EMAILS

    progress = progress or Progress()
    settings_file = directory / DEMO_CONFIG
    mirror_file = directory / "contact_events.db"
    existing = settings_file.is_file() and mirror_file.is_file()
    if reuse and not existing:
        raise ContactEventsError(
            f"no demo in {directory} to reuse; run `contact-events demo` without --reuse"
        )
    started = time.perf_counter()
    if existing:  # tokens are kept between runs
        values = read_demo_settings(settings_file)
        token, admin = str(values["api_tokens"]), str(values["admin_token"])
        kept = str(values.get("profile") or "flat")
        if kept != profile.value and reuse is not False:
            raise ContactEventsError(
                f"the demo in {directory} is the {kept} profile's; pass --fresh to rebuild it "
                f"as {profile.value}, or another --dir"
            )
    else:
        token, admin = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    conf = Settings(
        warehouse="duckdb",
        profile=profile.value,
        duckdb_path=directory / "warehouse.duckdb",
        mirror_path=mirror_file,
        practice_emails=list(PRACTICE_EMAILS),
        api_tokens=[token],
        admin_token=admin,
    )
    demo = Demo(directory, settings_file, token, admin, conf)
    if existing and reuse is not False:
        return demo
    from ..pipeline import rebuild
    from ..stages.load import load_directory
    from ..stages.lock import writer_session
    from ..stages.profiles import profile_of

    private_dir(directory)
    if not settings_file.is_file():
        create_private(settings_file)
    settings_file.write_text(
        demo_settings_text(directory, token, admin, list(PRACTICE_EMAILS), profile),
        encoding="utf-8",
    )
    # The files too are written under the lock: another demo in the same folder would
    # otherwise rewrite them while this one loads them.
    with writer_session(conf, "write the demo") as wh:
        write_demo(profile, directory / "canonicals", size, progress.data)
        load_directory(
            wh, directory / "canonicals", progress=progress.rows, profile=profile_of(conf)
        )
    demo.report = rebuild(
        conf, validate=True, on_build_step=progress.build_step, on_sync_rows=progress.rows
    )
    demo.seconds = time.perf_counter() - started
    return demo

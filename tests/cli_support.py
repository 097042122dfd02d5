"""Running the real `contact-events` entry point in a subprocess, as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A CLI test sets every variable it needs; none leaks in from the machine.
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.upper().startswith("CONTACT_EVENTS_")}


def entry_point() -> list[str]:
    """The installed console script (what users run), else the module."""
    script = Path(sys.executable).with_name("contact-events")
    if script.exists():
        return [str(script)]
    found = shutil.which("contact-events")
    return [found] if found else [sys.executable, "-m", "contact_events.builder.cli"]


def run_cli(
    args: list[str],
    env: Mapping[str, str | None] | None = None,
    cwd: Path | str | None = None,
    *,
    timeout: float = 180,
    umask: int | None = None,
    **kwargs: object,
) -> subprocess.CompletedProcess[str]:
    """Run `contact-events ARGS` with the machine's environment less CONTACT_EVENTS_*,
    plus `env` (a None value removes that variable)."""

    def preexec() -> None:
        if umask is not None:
            os.umask(umask)

    return subprocess.run(
        [*entry_point(), *args],
        env={k: v for k, v in {**CLEAN_ENV, **(env or {})}.items() if v is not None},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec if umask is not None else None,  # noqa: PLW1509
        **kwargs,  # type: ignore[arg-type]
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a failed command (exit 1, no traceback)."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]

"""The README's two commands are the ones users and CI run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bash_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    blocks = bash_blocks(readme)
    demo, tests = blocks[0], blocks[1]
    assert "contact-events demo" in demo and "python3.11 -m venv" in demo
    assert "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text()
    ci_lines = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.startswith("#")]
    assert tests in ci_lines, "the README's test command must be the line .ci/run runs"


def test_readme_lists_every_cli_command():
    from builder.cli import app

    readme = (ROOT / "README.md").read_text()
    for command in app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")
        assert f"contact-events {name}" in readme, name

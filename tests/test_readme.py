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
    from contact_events.builder.cli import app

    readme = (ROOT / "README.md").read_text()
    for command in app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")
        assert f"contact-events {name}" in readme, name


def test_the_contract_in_the_repository_is_the_binding_one():
    """docs/contract.md is what the README points at; it must say what ../shared says."""
    ours = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert ours.startswith("<!--")
    ours = ours.split("\n", 1)[1]
    for section in ("## 1. Canonical input tables", "## 5. HTTP API", "## 6. Command line"):
        assert section in ours
    binding = ROOT.parent / "shared" / "CONTRACT.md"
    if binding.exists():  # beside the repository on developers' machines and in CI
        assert ours == binding.read_text(encoding="utf-8"), (
            "docs/contract.md is out of step with ../shared/CONTRACT.md: copy it over"
        )
    readme = (ROOT / "README.md").read_text()
    assert "docs/contract.md" in readme
    assert "../shared/CONTRACT.md" not in readme.split("## ")[0]  # self-contained intro


def test_the_procfile_daily_process_is_a_one_shot_and_the_readme_says_how_to_schedule_it():
    procfile = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert procfile["web"].strip().startswith("contact-events serve")
    assert procfile["daily"].strip().startswith("contact-events run")
    readme = (ROOT / "README.md").read_text()
    for text in ("one-shot", "cron", "Cloud Scheduler", "same filesystem"):
        assert text in readme, text

"""The README/CI contract: CI runs exactly the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _command(marker: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\s*```sh\n(.+?)\n\s*```", text, flags=re.S)
    assert match, f"README.md has no {marker} block"
    return match.group(1).strip()


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci/run").read_text(encoding="utf-8").splitlines()
    assert _command("test-command") in [line.strip() for line in ci]


def test_ci_makes_its_own_virtual_environment() -> None:
    assert "python3 -m venv --clear .venv" in (REPO / ".ci/run").read_text(encoding="utf-8")


def test_main_command_uses_the_example() -> None:
    assert "jobs.example.yaml" in _command("main-command")

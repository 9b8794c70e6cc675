"""Under GitHub Actions, a job file's problems are also printed as workflow commands
(`::error file=...,line=...,col=...::...`), once each, escaped as GitHub documents."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zsync.reports import github
from zsync.spec.diagnostics import Diagnostic

BROKEN = """\
version: 1
connections:
  crm:
    product: crm
    dc: com
    auth: {client_id: x, client_secret: y, refresh_token: "${ZSYNC_TEST_NEVER_SET}"}
jobs:
  a:
    "100%": 1
    export: {from: crm, module: Leads}
    output: l.csv
"""
ACTIONS = {"GITHUB_ACTIONS": "true"}


def zsync(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    return subprocess.run(
        [sys.executable, "-m", "zsync", *args],
        cwd=cwd,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def commands(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("::")]


def test_validate_annotates_each_problem_on_its_line(tmp_path) -> None:
    (tmp_path / "my,jobs.yaml").write_text(BROKEN)
    done = zsync(tmp_path, "validate", "my,jobs.yaml", env=ACTIONS)
    assert done.returncode == 2
    assert commands(done.stdout) == [
        "::warning file=my%2Cjobs.yaml,line=6,col=59::connections.crm.auth.refresh_token: "
        "environment variable ZSYNC_TEST_NEVER_SET is not set (needed at run time)",
        "::error file=my%2Cjobs.yaml,line=9,col=5::jobs.a.\"100%25\": unknown key '100%25'; "
        "expected one of: description, enabled, export, import, needs, output, poll, results, "
        "retry, tags",
    ]
    # The plain lines stay, for people reading the log.
    assert "my,jobs.yaml:9:5: error: jobs.a.\"100%\": unknown key '100%'" in done.stdout


def test_no_workflow_commands_outside_github_actions(tmp_path) -> None:
    (tmp_path / "jobs.yaml").write_text(BROKEN)
    for env in ({}, {"GITHUB_ACTIONS": "false"}):
        done = zsync(tmp_path, "validate", "jobs.yaml", env=env)
        assert done.returncode == 2 and not commands(done.stdout + done.stderr)


def test_json_output_stays_json(tmp_path) -> None:
    (tmp_path / "jobs.yaml").write_text(BROKEN)
    done = zsync(tmp_path, "validate", "jobs.yaml", "--output", "json", env=ACTIONS)
    assert json.loads(done.stdout)["errors"] == 1
    assert len(commands(done.stderr)) == 2  # GitHub reads commands on stderr too


@pytest.mark.parametrize("command", [["run", "--emulator"], ["run"], ["plan"]])
def test_run_and_plan_annotate_an_invalid_file_once(tmp_path, command) -> None:
    (tmp_path / "jobs.yaml").write_text(BROKEN)
    done = zsync(tmp_path, command[0], "jobs.yaml", *command[1:], env=ACTIONS)
    assert done.returncode == 2, done.stderr
    # (A run against Zoho, without --emulator, also makes the unset variable an error.)
    errors = [line for line in commands(done.stdout) if ",line=9," in line]
    assert len(errors) == 1 and errors[0].startswith("::error file=jobs.yaml,line=9,col=5::")
    assert not commands(done.stderr)


def test_escaping_follows_githubs_rules() -> None:
    assert github.escape_data("100% sure\r\nnext: a, b") == "100%25 sure%0D%0Anext: a, b"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    diagnostic = Diagnostic("dir/a:b,c.yaml", 3, 7, "jobs.x", "error", "bad\nvalue: 5%")
    assert github.workflow_commands([diagnostic], {"GITHUB_ACTIONS": "true"}) == [
        "::error file=dir/a%3Ab%2Cc.yaml,line=3,col=7::jobs.x: bad%0Avalue: 5%25"
    ]
    assert github.workflow_commands([diagnostic], {}) == []


def test_an_absolute_path_in_the_workspace_is_made_relative(tmp_path) -> None:
    inside = Diagnostic(str(tmp_path / "ci/jobs.yaml"), 1, 1, "", "warning", "w")
    outside = Diagnostic("/elsewhere/jobs.yaml", 1, 1, "", "warning", "w")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(tmp_path)}
    assert github.workflow_commands([inside, outside], env) == [
        "::warning file=ci/jobs.yaml,line=1,col=1::w",
        "::warning file=/elsewhere/jobs.yaml,line=1,col=1::w",
    ]


def test_summary_cells_cant_break_the_table() -> None:
    manifest = {
        "run_id": "r1",
        "spec": {"path": "jobs.yaml"},
        "outcome": "failed",
        "exit_code": 1,
        "jobs": {
            "a": {
                "status": "failed",
                "error": {"class": "remote", "code": "X|1", "message": "one | two\nthree <b>"},
            }
        },
    }
    text = github.step_summary(manifest, Path("m.json"))
    (row,) = [line for line in text.splitlines() if line.startswith("| `a`")]
    assert row == "| `a` | failed | remote `X\\|1` one \\| two three &lt;b> | 0ms |"

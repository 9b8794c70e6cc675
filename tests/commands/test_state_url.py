"""A shared PostgreSQL state store end to end, through the real command line: `zsync run`
records there (chosen by the job file's `defaults.state` or ZSYNC_STATE_URL), `zsync status`
and `zsync runs` read it back, and a wrong password is one line that doesn't show it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

pytest.importorskip("psycopg")

REPO = Path(__file__).resolve().parent.parent.parent


def zsync(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ZOHO_", "ZSYNC_"))},
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "zsync", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_run_records_in_postgres_and_status_and_runs_read_it(tmp_path, postgres_url) -> None:
    # The job file names the store with ${VAR}, as it would with a password in it.
    example = (REPO / "jobs.example.yaml").read_text(encoding="utf-8")
    (tmp_path / "jobs.yaml").write_text(
        example.replace("defaults:\n", "defaults:\n  state: ${SHARED_STATE}\n", 1)
    )
    done = zsync("run", "jobs.yaml", "--emulator", cwd=tmp_path, env={"SHARED_STATE": postgres_url})
    assert done.returncode == 0, done.stderr
    state_dir = tmp_path / ".zsync"
    assert not (state_dir / "state.db").exists()  # recorded in PostgreSQL...
    assert (state_dir / "runs" / "latest" / "manifest.json").is_file()  # ...manifests stay here

    shared = {"ZSYNC_STATE_URL": postgres_url}
    status = zsync("status", "--output", "json", cwd=tmp_path, env=shared)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["outcome"] == "succeeded"

    elsewhere = tmp_path / "elsewhere"  # no state directory here: only the URL finds it
    elsewhere.mkdir()
    listed = zsync("runs", "--state-url", postgres_url, cwd=elsewhere, env={})
    assert listed.returncode == 0, listed.stderr
    assert "succeeded" in listed.stdout and str(tmp_path / "jobs.yaml") in listed.stdout
    text = zsync("status", cwd=elsewhere, env=shared)
    assert text.returncode == 0, text.stderr
    assert ": succeeded; started" in text.stdout
    # --job-file finds the store the job file names, as `zsync run` did.
    named = {"SHARED_STATE": postgres_url}
    beside = zsync("status", "-f", str(tmp_path / "jobs.yaml"), cwd=elsewhere, env=named)
    assert beside.returncode == 0, beside.stderr
    assert ": succeeded; started" in beside.stdout


def test_a_wrong_password_is_one_line_without_it(tmp_path, wrong_password_url) -> None:
    password = urllib.parse.urlsplit(wrong_password_url).password
    assert password
    (tmp_path / "jobs.yaml").write_text((REPO / "jobs.example.yaml").read_text(encoding="utf-8"))
    wrong = {"ZSYNC_STATE_URL": wrong_password_url}
    for args, code in [
        (("run", "jobs.yaml", "--emulator"), 1),
        (("status",), 2),
        (("runs",), 2),
    ]:
        done = zsync(*args, cwd=tmp_path, env=wrong)
        said = done.stdout + done.stderr
        assert done.returncode == code, said
        assert password not in said
        assert "Traceback" not in said
        error = [line for line in done.stderr.splitlines() if line.startswith("zsync: error:")]
        assert len(error) == 1, said
        assert "password authentication failed" in error[0]

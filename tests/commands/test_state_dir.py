"""Where the state lives, the same for run, status and runs: .zsync/ beside the job file by
default, ZSYNC_STATE_DIR or --state-dir (relative to the working directory) when given, and
--job-file for status and runs to find the default."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ZSYNC = str(Path(sys.executable).with_name("zsync"))


def _zsync(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("ZOHO_", "ZSYNC_", "GITHUB_"))
    }
    return subprocess.run(
        [ZSYNC, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**environment, **env},
    )


def _project(tmp_path: Path) -> Path:
    (tmp_path / "conf").mkdir()
    shutil.copy(REPO / "jobs.example.yaml", tmp_path / "conf" / "jobs.yaml")
    return tmp_path


def test_status_and_runs_find_the_state_beside_the_job_file(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert _zsync("run", "conf/jobs.yaml", "--emulator", "-q", cwd=root).returncode == 0
    assert (root / "conf" / ".zsync" / "state.db").is_file()
    missing = _zsync("status", cwd=root)  # .zsync/ here: not where the run kept it
    assert missing.returncode == 2
    assert "--job-file" in missing.stderr and "ZSYNC_STATE_DIR" in missing.stderr
    found = _zsync("status", "--job-file", "conf/jobs.yaml", "--output", "json", cwd=root)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["outcome"] == "succeeded"
    listed = _zsync("runs", "-f", "conf/jobs.yaml", "--output", "json", cwd=root)
    assert [run["outcome"] for run in json.loads(listed.stdout)] == ["succeeded"]


def test_zsync_state_dir_is_read_by_every_command(tmp_path: Path) -> None:
    root = _project(tmp_path)
    shared = tmp_path / "shared-state"
    done = _zsync(
        "run", "conf/jobs.yaml", "--emulator", "-q", cwd=root, ZSYNC_STATE_DIR=str(shared)
    )
    assert done.returncode == 0, done.stderr
    assert (shared / "state.db").is_file()
    assert not (root / "conf" / ".zsync").exists()
    for command in (["status"], ["runs"]):
        read = _zsync(*command, "--output", "json", cwd=root, ZSYNC_STATE_DIR=str(shared))
        assert read.returncode == 0, read.stderr
    # --job-file, on the command line, wins over the environment; --state-dir with it is
    # a contradiction.
    beside = _zsync("runs", "-f", "conf/jobs.yaml", cwd=root, ZSYNC_STATE_DIR=str(shared))
    assert "no runs recorded in conf/.zsync" in beside.stdout
    both = _zsync("runs", "-f", "conf/jobs.yaml", "--state-dir", str(shared), cwd=root)
    assert both.returncode == 2
    assert "not both" in both.stderr


def test_a_relative_state_dir_is_relative_to_the_working_directory(tmp_path: Path) -> None:
    root = _project(tmp_path)
    done = _zsync("run", "conf/jobs.yaml", "--emulator", "-q", "--state-dir", "st", cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / "st" / "state.db").is_file()
    assert _zsync("status", "--state-dir", "st", cwd=root).returncode == 0

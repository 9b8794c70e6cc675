"""The state directory is its owner's alone: 0700, and the store and manifests in it 0600."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from zsync.state.sqlite import SqliteStore

JOBS = """\
version: 1
connections:
  crm: {product: crm, auth: {client_id: a, client_secret: b, refresh_token: c}}
jobs:
  leads:
    export: {from: crm, module: Leads, fields: [Last_Name]}
    output: leads.csv
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_run_keeps_its_state_private(tmp_path: Path) -> None:
    (tmp_path / "jobs.yaml").write_text(JOBS)
    old_umask = os.umask(0o022)  # the usual one: what zsync asks for must win over it
    try:
        done = subprocess.run(
            [sys.executable, "-m", "zsync", "run", "jobs.yaml", "--emulator"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.umask(old_umask)
    assert done.returncode == 0, done.stderr
    state = tmp_path / ".zsync"
    directories = [state, *(p for p in state.rglob("*") if p.is_dir())]
    files = [p for p in state.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"state.db", "manifest.json"}
    assert (state / "runs" / "latest").is_symlink()  # to a run's directory, checked below
    assert {str(p.relative_to(tmp_path)): oct(mode(p)) for p in directories} == {
        str(p.relative_to(tmp_path)): "0o700" for p in directories
    }
    assert {str(p.relative_to(tmp_path)): oct(mode(p)) for p in files} == {
        str(p.relative_to(tmp_path)): "0o600" for p in files
    }


def test_a_store_left_readable_by_an_older_zsync_is_narrowed(tmp_path: Path) -> None:
    state = tmp_path / ".zsync"
    SqliteStore(state / "state.db").close()
    for path in state.iterdir():
        path.chmod(0o644)
    SqliteStore(state / "state.db").close()
    assert {p.name: oct(mode(p)) for p in state.iterdir()} == {
        p.name: "0o600" for p in state.iterdir()
    }


def test_a_state_dir_that_exists_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o750)
    shared.chmod(0o750)
    SqliteStore(shared / "nested" / "state.db").close()
    assert mode(shared) == 0o750  # its owner shares it on purpose
    assert mode(shared / "nested") == 0o700
    assert mode(shared / "nested" / "state.db") == 0o600

"""`zsync --help`, `validate` and `plan` load only what they need: no aiohttp, no emulator.

Those three run in CI and editors on every save; aiohttp alone took a third of their start
(issue 12). The benchmark (bench/scenarios/cli_start.py) times them; this checks, in a real
process, the imports that would make them slow again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = str(REPO / "jobs.example.yaml")
# Never loaded by these commands. asyncio too: `zsync plan` counts against the per-minute
# limits (zsync.http.limits) without the event loop that keeps to them (zsync.http.rates).
FORBIDDEN = ("aiohttp", "zsync.emulator", "asyncio")


def imported(*args: str) -> set[str]:
    """The modules `python -m zsync ARGS` imports (Python's own -X importtime report)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "zsync", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "zsync.cli" in modules, done.stderr  # the report is read right
    return modules


@pytest.mark.parametrize(
    "args",
    [("--help",), ("validate", EXAMPLE), ("plan", EXAMPLE)],
    ids=["help", "validate", "plan"],
)
def test_start_loads_no_network_stack(args: tuple[str, ...]) -> None:
    modules = imported(*args)
    loaded = sorted(
        name for name in modules if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    )
    assert loaded == [], f"zsync {' '.join(args)} imported {loaded}"


def test_help_loads_no_command() -> None:
    # --help needs click and the options' declarations, not the spec checker behind them.
    modules = imported("--help")
    assert not {"jsonschema", "yaml", "zsync.spec", "zsync.commands.validate"} & modules


def test_a_command_still_loads_what_it_runs() -> None:
    # The lazy imports aren't lost: `validate` does reach the schema checker.
    assert {"jsonschema", "zsync.spec.schema_check"} <= imported("validate", EXAMPLE)


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_an_object_storage_output_dir_loads_no_storage_package(command, tmp_path) -> None:
    """fsspec, s3fs and botocore cost a tenth of a second and more: only a run that writes
    or reads an object loads them (validate finds the package without importing it)."""
    pytest.importorskip("s3fs")
    spec = tmp_path / "jobs.yaml"
    text = Path(EXAMPLE).read_text().replace("output_dir: exports", "output_dir: s3://b/exports")
    spec.write_text(text)
    modules = imported(command, str(spec))
    storage = ("fsspec", "s3fs", "botocore", "aiobotocore", "asyncio")
    loaded = sorted(n for n in modules if any(n == s or n.startswith(s + ".") for s in storage))
    assert loaded == [], f"zsync {command} imported {loaded}"

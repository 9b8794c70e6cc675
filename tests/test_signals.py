"""Ctrl-C and SIGTERM at any moment: exit 130 or 143, no traceback, a consistent record.

Real `python -m zsync` processes get SIGINT or SIGTERM at fixed delays: while Python loads
zsync, while the job file is read, while the run is set up, while its jobs are at Zoho (an
emulator served from this test, on a real-time clock, so jobs take seconds). A run that was
recorded says interrupted, with the signal's exit code, in the store and in its manifest; no
temporary file is left behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from zsync.emulator import EmulatorConfig, RunningEmulator, running_emulator
from zsync.errors import ExitCode
from zsync.interrupts import EXIT_CODES, RunInterrupts
from zsync.manifest import manifest_path, read_latest
from zsync.plan import build_plan
from zsync.runner import run_plan
from zsync.runs import started_run
from zsync.spec import load_spec
from zsync.state.lock import holder_for
from zsync.state.sqlite import SqliteStore

EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
# Seconds after the process starts. Not sooner than 0.1: Python's own start-up (20-50 ms,
# more on a busy machine) runs no line of zsync, so nothing zsync does can handle a signal
# there (Python prints a KeyboardInterrupt traceback, or SIGTERM kills it); from zsync's first
# line on, it is handled.
DELAYS = (0.1, 0.2, 0.35, 0.5, 0.7, 1.0)
TEMPORARY = (".zsync-tmp-", ".zsync-old-", ".tmp-")

JOBS = """\
  sales:
    export: {from: analytics, view: Sales}
    output: sales.csv
  leads:
    export: {from: crm, module: Leads, fields: [Last_Name, Email]}
    output: leads.csv
  sales_again:
    needs: [sales]
    import: {to: analytics, table: SalesCopy, file: sales.csv, create_table: true}
"""


def test_the_exit_codes_are_the_documented_ones() -> None:
    assert EXIT_CODES == {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED}
    assert EXIT == EXIT_CODES


def job_file(running: RunningEmulator, directory: Path) -> Path:
    demo = running.emulator.demo(running.base_url)
    auth = {key: demo[key] for key in ("client_id", "client_secret", "refresh_token")}
    common = {"base_url": running.base_url, "auth": auth}
    connections = {
        "crm": {"product": "crm", "org_id": demo["crm_org_id"], **common},
        "analytics": {
            "product": "analytics",
            "org_id": demo["analytics_org_id"],
            "workspace": demo["analytics_workspace_id"],
            **common,
        },
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "jobs.yaml"
    path.write_text(
        "version: 1\n"
        + yaml.safe_dump({"connections": connections}, default_flow_style=None, width=1000)
        + "defaults: {poll: {first: 10ms, max: 50ms}}\n"
        + "jobs:\n"
        + JOBS
    )
    return path


async def signalled(
    args: list[str], cwd: Path, signum: int, after: float | Callable[[], bool]
) -> tuple[int, str, str]:
    """Start `python -m zsync ARGS`, send `signum` after `after` seconds, or once `after()`
    says so (unless it ended first); its exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "zsync",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    talk = asyncio.ensure_future(process.communicate())
    if callable(after):
        for _ in range(1000):
            if talk.done() or after():
                break
            await asyncio.sleep(0.02)
    else:
        await asyncio.wait([talk], timeout=after)
    if not talk.done():
        process.send_signal(signum)
    stdout, stderr = await asyncio.wait_for(talk, 30)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def leftovers(root: Path) -> list[Path]:
    found = [p for p in root.rglob("*") if any(mark in p.name for mark in TEMPORARY)]
    return found + list((root / ".zsync" / "runs").glob("*/tmp"))


def recorded_runs(state_dir: Path) -> list[tuple[str, str, int | None]]:
    """(run id, outcome, exit code) of every run in the store, read without zsync."""
    if not (state_dir / "state.db").is_file():
        return []
    db = sqlite3.connect(state_dir / "state.db")
    try:
        rows = db.execute("SELECT record FROM runs").fetchall()
    finally:
        db.close()
    return [(r["run_id"], r["outcome"], r["exit_code"]) for r in (json.loads(x) for (x,) in rows)]


def at_zoho(state_dir: Path) -> Callable[[], bool]:
    """Whether the run's manifest shows a job created at Zoho."""

    def check() -> bool:
        path = read_latest(state_dir)
        if path is None or not path.is_file():
            return False
        jobs = json.loads(path.read_text())["jobs"]
        return any(r["id"] for job in jobs.values() for r in job["remote_jobs"])

    return check


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_a_signal_at_any_moment_of_a_run_exits_cleanly(signum, tmp_path) -> None:
    # A dozen runs in real time each take a token: more than Zoho's 10 per 10 minutes.
    async with running_emulator(EmulatorConfig(time_scale=1.0, token_budget=None)) as running:
        # Fixed delays land wherever the machine's speed puts them; the last one is sure to
        # find the run under way.
        for n, after in enumerate([*DELAYS, at_zoho(tmp_path / "zoho" / ".zsync")]):
            directory = tmp_path / ("zoho" if callable(after) else str(n))
            job_file(running, directory)
            code, stdout, stderr = await signalled(["run", "jobs.yaml"], directory, signum, after)
            where = f"{signum.name} after {after}:\n{stderr}"
            assert code == EXIT[signum], where
            assert "Traceback" not in stderr, where
            assert "zsync: interrupted" in stderr or "stopping" in stderr, where
            assert leftovers(directory) == [], where
            runs = recorded_runs(directory / ".zsync")
            if not runs:  # stopped before the run was recorded
                assert not callable(after), where
                assert "manifest:" not in stdout, where
                continue
            [(run_id, outcome, exit_code)] = runs
            assert (outcome, exit_code) == ("interrupted", EXIT[signum]), where
            manifest = json.loads(manifest_path(directory / ".zsync", run_id).read_text())
            assert (manifest["outcome"], manifest["exit_code"]) == (outcome, exit_code), where
            assert not {j["status"] for j in manifest["jobs"].values()} & {"queued", "running"}
            assert stdout.strip().splitlines()[-1].startswith("manifest: "), where


async def test_a_signal_while_waiting_for_the_lock_records_nothing(tmp_path) -> None:
    async with running_emulator(EmulatorConfig(time_scale=1.0, token_budget=None)) as running:
        path = job_file(running, tmp_path)
        store = SqliteStore(tmp_path / ".zsync" / "state.db")
        holder = holder_for(str(path.resolve()), "20260101T000000Z-holder")  # this live process
        assert store.acquire_lock(holder, lambda _: True).acquired
        store.close()
        code, _, stderr = await signalled(
            ["run", "jobs.yaml", "--wait-lock", "30s"], tmp_path, signal.SIGINT, 1.5
        )
    assert "waiting for the run lock" in stderr
    assert (code, "Traceback" in stderr) == (130, False), stderr
    assert recorded_runs(tmp_path / ".zsync") == []


def big_job_file(directory: Path, jobs: int = 1000) -> None:
    """A job file zsync takes a while to read (20,000 jobs: ~1.5 s), so a signal can land in
    the middle."""
    lines = [
        "version: 1",
        "connections:",
        "  crm: {product: crm, auth: {client_id: abcd, client_secret: efgh, refresh_token: ijkl}}",
        "jobs:",
    ]
    lines += [
        f"  j{i}: {{export: {{from: crm, module: Leads, fields: [Last_Name]}}, output: o{i}.csv}}"
        for i in range(jobs)
    ]
    (directory / "jobs.yaml").write_text("\n".join(lines) + "\n")


async def test_a_signal_during_any_other_command_exits_cleanly(tmp_path) -> None:
    big_job_file(tmp_path, 20_000)  # validate takes ~1.5 s of it, plan ~4 s: signals land inside
    SqliteStore(tmp_path / ".zsync" / "state.db").close()
    commands = [
        (["validate", "jobs.yaml"], (0.1, 0.25, 0.8), None),
        (["plan", "jobs.yaml", "--output", "json"], (0.1, 0.25, 0.8), None),
        # These two end in about 0.2 s on an empty store (they import only what they need), so
        # a signal may come too late when the machine is busy: their own exit code (status: no
        # runs recorded) is accepted then, as long as one signal of each kind got there.
        (["status"], (0.06, 0.12), 2),
        (["runs"], (0.06, 0.12), 0),
    ]
    for args, delays, ended_first in commands:
        landed: set[signal.Signals] = set()
        for delay in delays:
            for signum in (signal.SIGINT, signal.SIGTERM):
                code, _, stderr = await signalled(args, tmp_path, signum, delay)
                where = f"zsync {' '.join(args)}, {signum.name} after {delay}s:\n{stderr}"
                if code == ended_first and "Traceback" not in stderr:
                    continue
                assert code == EXIT[signum], where
                assert stderr.strip().splitlines()[-1] == "zsync: interrupted", where
                landed.add(signum)
        assert landed == {signal.SIGINT, signal.SIGTERM}, f"zsync {args}: signal it sooner"


async def test_a_signal_kept_while_the_run_is_recorded_stops_it_before_any_job(tmp_path) -> None:
    """Between the lock and the scheduler a signal is only kept; the run's handler then ends
    the run at once: no job starts, and the run is recorded interrupted."""
    async with running_emulator(EmulatorConfig(time_scale=1.0, token_budget=None)) as running:
        spec = load_spec(job_file(running, tmp_path), {})
        plan = build_plan(spec)
        state_dir = tmp_path / ".zsync"
        interrupts = RunInterrupts()
        with interrupts.installed():
            async with started_run(plan, state_dir, interrupts=interrupts) as recorder:
                os.kill(os.getpid(), signal.SIGTERM)
                await asyncio.sleep(0.05)  # the loop sees it: kept, nothing cancelled
                assert interrupts.signum == signal.SIGTERM
                code = await run_plan(plan, recorder, state_dir, interrupts=interrupts)
                run_id = recorder.run.run_id
        assert running.emulator.creates() == 0
    assert code == 143
    manifest = json.loads(manifest_path(state_dir, run_id).read_text())
    assert (manifest["outcome"], manifest["exit_code"]) == ("interrupted", 143)
    jobs = manifest["jobs"]
    assert {job["status"] for job in jobs.values()} == {"skipped"}
    assert jobs["sales"]["reason"] == "not started: the run was interrupted (SIGTERM)"
    assert jobs["sales_again"]["reason"] == "needs sales, which was skipped"


def test_a_signal_while_a_command_loads_ends_the_process_even_if_swallowed() -> None:
    """Commands import their modules when they start. A signal then must not depend on an
    exception getting through: a library's bare `except:` at import would swallow it."""
    script = (
        "import os, signal, sys, time\n"
        "from zsync import interrupts\n"
        "interrupts.raise_on_signals()\n"
        "with interrupts.loading():\n"
        "    try:  # an import that swallows everything\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        time.sleep(1)\n"
        "    except BaseException:\n"
        "        pass\n"
        "print('went on')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (143, ""), done
    assert done.stderr == "zsync: interrupted\n"

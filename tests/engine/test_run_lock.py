"""One run per job file at a time, abandoned runs, and the resume command, as a user meets them."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from zsync.emulator import EmulatorConfig
from zsync.state.sqlite import SqliteStore

from .test_imports import customers, write_csv

ZSYNC = str(Path(sys.executable).with_name("zsync"))
JOBS = """\
sales:
  export: {from: analytics, view: Sales}
  output: sales.csv
load:
  import: {to: analytics, table: Customers, file: c.csv}
"""


async def _zsync(*args: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        ZSYNC, *args, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def _until_running(cwd: Path) -> None:
    """Wait until a run of cwd/jobs.yaml is recorded (it holds the lock by then)."""
    for _ in range(400):
        db = cwd / ".zsync/state.db"
        if db.is_file() and SqliteStore(db).runs():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no run started")


async def test_a_second_run_is_refused_or_waits_and_rows_land_once(start, tmp_path) -> None:
    zoho = await start(EmulatorConfig(time_scale=2.0), tmp=tmp_path)  # jobs take seconds
    write_csv(tmp_path / "out/c.csv", customers(5, note=" locked"))
    zoho.spec(JOBS)
    before = len(zoho.emulator.rows("analytics", "Customers"))

    first = await _zsync("run", "jobs.yaml", cwd=tmp_path)
    await _until_running(tmp_path)
    refused = await _zsync("run", "jobs.yaml", cwd=tmp_path)
    _, err = await asyncio.wait_for(refused.communicate(), 30)
    assert refused.returncode == 5, err.decode()
    message = err.decode().strip().splitlines()[-1]
    assert message.startswith(
        f"zsync: error: {tmp_path / 'jobs.yaml'} is already being run by run "
    )
    assert f"(pid {first.pid} on " in message and "--wait-lock" in message

    waiting = await _zsync("run", "jobs.yaml", "--wait-lock", "60s", cwd=tmp_path)
    _, first_err = await asyncio.wait_for(first.communicate(), 60)
    assert first.returncode == 0, first_err.decode()
    _, err = await asyncio.wait_for(waiting.communicate(), 60)
    assert waiting.returncode == 0, err.decode()
    text = err.decode()
    assert "waiting for the run lock held by run" in text
    assert "load: skipped (already imported by run" in text
    zoho.emulator.settle()
    assert len(zoho.emulator.rows("analytics", "Customers")) == before + 5
    assert zoho.emulator.creates("analytics.import") == 1


async def test_a_killed_run_is_marked_abandoned_and_says_how_to_resume(start, tmp_path) -> None:
    zoho = await start(EmulatorConfig(time_scale=10.0), tmp=tmp_path)
    write_csv(tmp_path / "out/c.csv", customers(5))
    zoho.spec(JOBS)
    killed = await _zsync("run", "jobs.yaml", cwd=tmp_path)
    await _until_running(tmp_path)
    await asyncio.sleep(0.3)
    killed.send_signal(signal.SIGKILL)
    await killed.wait()
    dead = SqliteStore(tmp_path / ".zsync/state.db").runs()[0]
    assert dead.outcome == "running"

    status = await _zsync("status", cwd=tmp_path)
    out, _ = await asyncio.wait_for(status.communicate(), 30)
    resume = f"zsync run {tmp_path / 'jobs.yaml'} --resume {dead.run_id}"
    assert resume in out.decode()
    assert f"never finished: its process (pid {killed.pid} on " in out.decode()

    again = await _zsync("run", "jobs.yaml", cwd=tmp_path)
    _, err = await asyncio.wait_for(again.communicate(), 60)
    text = err.decode()
    assert again.returncode in (0, 1), text
    assert f"run {dead.run_id} (started {dead.started_at}) never finished" in text
    assert f"to resume it: {resume}" in text
    store = SqliteStore(tmp_path / ".zsync/state.db")
    assert store.run(dead.run_id).outcome == "abandoned"
    manifest = (tmp_path / ".zsync/runs" / dead.run_id / "manifest.json").read_text()
    assert '"outcome": "abandoned"' in manifest
    assert not list(tmp_path.rglob("*.zsync-tmp-*"))


async def test_resume_with_the_embedded_emulator_is_a_usage_error(zoho) -> None:
    zoho.spec(JOBS)
    process = await _zsync("run", "jobs.yaml", "--emulator", "--resume", cwd=zoho.tmp)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "--resume can't be used with --emulator" in err.decode()
    assert "Traceback" not in err.decode()

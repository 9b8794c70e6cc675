"""Timeouts, interruption and machine-readable output of a run."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

from zsync.emulator import EmulatorConfig
from zsync.manifest import read_latest
from zsync.scheduler import RunOptions

ZSYNC = str(Path(sys.executable).with_name("zsync"))


async def test_a_job_past_its_timeout_ends_the_run_with_4(start, tmp_path) -> None:
    zoho = await start(EmulatorConfig(time_scale=1.0), tmp=tmp_path)  # jobs take seconds
    run = await zoho.run("""\
        slow:
          export: {from: analytics, view: Sales}
          output: slow.csv
          poll: {first: 10ms, timeout: 300ms}
        """)
    assert run.code == 4
    job = run.job("slow")
    assert job["status"] == "timed_out"
    assert job["error"]["class"] == "timeout"
    assert run.manifest["outcome"] == "timed_out"
    assert not (run.out / "slow.csv").exists()


async def test_the_run_stops_at_its_own_timeout_and_resumes(start, tmp_path) -> None:
    zoho = await start(EmulatorConfig(time_scale=3.0), tmp=tmp_path)  # a job takes ~1 s
    jobs = """\
        slow:
          export: {from: analytics, view: Sales}
          output: slow.csv
          poll: {first: 10ms, max: 200ms}
        after:
          needs: [slow]
          export: {from: analytics, view: Customers}
          output: after.csv
        """
    run = await zoho.run(jobs, options=RunOptions(timeout=0.3))
    assert (run.code, run.manifest["outcome"]) == (4, "timed_out")
    slow, after = run.job("slow"), run.job("after")
    assert slow["status"] == "timed_out"
    assert "--timeout (0.3s)" in slow["reason"]
    assert slow["remote_jobs"][0]["id"]  # recorded: --resume polls it, doesn't create again
    assert after["status"] == "skipped"
    assert not (run.out / "slow.csv").exists()

    resumed = await zoho.run(jobs, resume="latest", options=RunOptions())
    assert resumed.code == 0, resumed.log
    assert zoho.emulator.creates() == 2  # slow's Zoho job was polled again, not created again


async def _zsync(*args: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        ZSYNC, *args, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def test_sigint_stops_the_run_and_keeps_remote_ids(start, tmp_path) -> None:
    zoho = await start(EmulatorConfig(time_scale=1.0), tmp=tmp_path)
    path = zoho.spec("""\
        slow:
          export: {from: analytics, view: Sales}
          output: slow.csv
        later:
          needs: [slow]
          export: {from: analytics, view: Sales}
          output: later.csv
        """)
    process = await _zsync("run", path.name, cwd=tmp_path)
    manifest_path = None
    for _ in range(200):  # wait until the remote job id is in the manifest
        await asyncio.sleep(0.05)
        manifest_path = read_latest(tmp_path / ".zsync")
        if manifest_path and manifest_path.is_file():
            jobs = json.loads(manifest_path.read_text())["jobs"]
            if jobs["slow"]["remote_jobs"] and jobs["slow"]["remote_jobs"][0]["id"]:
                break
    process.send_signal(signal.SIGINT)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 130, stderr.decode()
    assert b"Traceback" not in stderr
    manifest = json.loads(manifest_path.read_text())
    assert manifest["outcome"] == "interrupted"
    assert manifest["exit_code"] == 130
    assert manifest["jobs"]["slow"]["status"] == "cancelled"
    assert manifest["jobs"]["slow"]["remote_jobs"][0]["id"].isdigit()
    assert manifest["jobs"]["later"]["status"] == "skipped"
    assert stdout.decode().strip().splitlines()[-1] == f"manifest: {manifest_path}"
    assert not (tmp_path / "out/slow.csv").exists()


async def test_output_json_prints_the_manifest(zoho) -> None:
    path = zoho.spec("""\
        sales:
          export: {from: analytics, view: Sales}
          output: sales.csv
        """)
    process = await _zsync("run", path.name, "--output", "json", cwd=zoho.tmp)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    printed = json.loads(stdout)
    assert printed["outcome"] == "succeeded"
    assert printed["jobs"]["sales"]["output"]["rows"] > 0
    assert stderr.decode().strip().splitlines()[-1].startswith("manifest: ")


async def test_a_state_store_that_fails_stops_the_run_with_its_own_error(zoho, monkeypatch) -> None:
    import sqlite3

    import pytest

    import zsync.runs
    from zsync.errors import StateError
    from zsync.state.sqlite import SqliteStore

    class FailingStore(SqliteStore):
        """Fails as a full disk would, once the run is under way."""

        calls = 0

        def apply(self, changes) -> None:
            FailingStore.calls += 1
            if FailingStore.calls > 3:
                raise sqlite3.OperationalError("database or disk is full")
            super().apply(changes)

    monkeypatch.setattr(zsync.runs, "open_store", lambda d, url=None: FailingStore(d / "state.db"))
    with pytest.raises(StateError, match="disk is full"):
        await zoho.run("""\
            sales:
              export: {from: analytics, view: Sales}
              output: sales.csv
            """)

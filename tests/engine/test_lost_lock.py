"""A run whose lock another run took (a shared store: its renewals stopped reaching the
database for longer than the lock's time to live) stops at once: two runs of one job file
must never overlap, or an import could be sent twice."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

import zsync.state.lock
from zsync.emulator import EmulatorConfig
from zsync.errors import ExitCode
from zsync.state.records import LockHolder, now

from .conftest import TIME_SCALE

JOBS = "".join(
    f"s{n}: {{export: {{from: analytics, view: Sales}}, output: s{n}.csv}}\n" for n in range(8)
)


@pytest.mark.parametrize("state_url", ["postgres"], indirect=True)
async def test_a_run_that_lost_its_lock_stops(start, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(zsync.state.lock, "LOCK_RENEW_EVERY", 0.05)
    # Jobs of 1 real second, 5 at a time: the second wave can't start before the takeover.
    config = dataclasses.replace(EmulatorConfig(time_scale=TIME_SCALE), job_seconds=(600, 600))
    zoho = await start(config, tmp=tmp_path)
    running = asyncio.create_task(zoho.run(JOBS))
    store = zoho.open_store()
    try:
        while not store.runs() or zoho.emulator.stats.creates() < 5:
            await asyncio.sleep(0.02)
        [run] = store.runs()
        thief = LockHolder(run.scope, "another-run", 1, "elsewhere", now())
        assert store.acquire_lock(thief, lambda holder: False).acquired  # taken over
        result = await asyncio.wait_for(running, 30)
    finally:
        store.close()
    assert result.code == ExitCode.LOCKED, result.log
    assert result.manifest["outcome"] == "interrupted"
    assert any("another run took this run's lock" in line for line in result.log)
    # Nothing was started once the lock was gone: the second wave never reached Zoho.
    assert zoho.emulator.stats.creates() == 5
    statuses = [job["status"] for job in result.manifest["jobs"].values()]
    assert "succeeded" not in statuses[5:]

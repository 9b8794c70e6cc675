"""Several zsync processes on one state store share an organisation's job cap: four runners,
each with 20 Analytics exports of one emulated organisation, never have more than 5 jobs
live at Zoho together; one killed mid-run leaves leases that expire, and the rest finish."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
import yaml

from zsync.emulator import EmulatorConfig, RunningEmulator, running_emulator
from zsync.runs import open_store

ZSYNC = str(Path(sys.executable).with_name("zsync"))
RUNNERS = 4
EXPORTS = 20
CAP = 5  # Zoho Analytics: concurrent export jobs per organisation


def _job_file(running: RunningEmulator, directory: Path) -> Path:
    demo = running.emulator.demo(running.base_url)
    connection = {
        "product": "analytics",
        "base_url": running.base_url,
        "org_id": demo["analytics_org_id"],
        "workspace": demo["analytics_workspace_id"],
        "auth": {k: demo[k] for k in ("client_id", "client_secret", "refresh_token")},
    }
    jobs = {
        f"sales_{n}": {"export": {"from": "analytics", "view": "Sales"}, "output": f"s{n}.csv"}
        for n in range(EXPORTS)
    }
    directory.mkdir(parents=True)
    path = directory / "jobs.yaml"
    spec = {
        "version": 1,
        "connections": {"analytics": connection},
        "defaults": {"poll": {"first": "20ms", "max": "50ms"}},
        "jobs": jobs,
    }
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """Where the runners' store is: one SQLite file in a shared state directory, or one
    PostgreSQL database (the manifests still go to the state directory)."""
    return request.getfixturevalue("postgres_url") if request.param == "postgres" else None


async def _start(path: Path, state: Path, url: str | None) -> asyncio.subprocess.Process:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ZOHO_", "ZSYNC_"))}
    environment.update(ZSYNC_STATE_DIR=str(state), ZSYNC_LEASE_TTL="1s", CI="true")
    if url is not None:
        environment["ZSYNC_STATE_URL"] = url
    return await asyncio.create_subprocess_exec(
        ZSYNC,
        "run",
        str(path),
        cwd=path.parent,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def _refused_for_the_cap(running: RunningEmulator) -> int:
    """Creates Zoho refused (8084: the organisation's cap is reached); without shared
    slots, four runners are refused hundreds of times."""
    return sum(
        1
        for r in running.emulator.stats.log
        if r.endpoint.startswith("analytics.export.create") and r.status == 400
    )


def _peak(running: RunningEmulator) -> int:
    org = running.emulator.demo(running.base_url)["analytics_org_id"]
    return running.emulator.jobs.peaks.get((org, "analytics.export"), 0)


async def test_four_runners_on_one_store_keep_to_the_organisation_s_cap(
    tmp_path: Path, store_url: str | None
) -> None:
    config = EmulatorConfig(time_scale=1.0, token_budget=None, job_seconds=(0.2, 0.2))
    async with running_emulator(config) as running:
        files = [_job_file(running, tmp_path / f"team{n}") for n in range(RUNNERS)]
        processes = [await _start(path, tmp_path / "state", store_url) for path in files]
        ended = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), 120)
        for process, (_, stderr) in zip(processes, ended, strict=True):
            assert process.returncode == 0, stderr.decode()
        # Together at most the cap, and the cap was used: the runners ran side by side.
        assert _peak(running) == CAP
        assert _refused_for_the_cap(running) == 0
    for path in files:
        assert len(list(path.parent.glob("exports/s*.csv"))) == EXPORTS
    store = open_store(tmp_path / "state", store_url)
    assert [run.outcome for run in store.runs()] == ["succeeded"] * RUNNERS
    store.close()


async def test_a_killed_runner_s_slots_expire_and_the_others_finish(
    tmp_path: Path, store_url: str | None
) -> None:
    config = EmulatorConfig(time_scale=1.0, token_budget=None, job_seconds=(0.3, 0.3))
    async with running_emulator(config) as running:
        files = [_job_file(running, tmp_path / f"team{n}") for n in range(RUNNERS)]
        state = tmp_path / "state"
        victim = await _start(files[0], state, store_url)
        # The victim holds slots (its jobs are at Zoho) before the others start.
        while _peak(running) < CAP:
            await asyncio.sleep(0.01)
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        others = [await _start(path, state, store_url) for path in files[1:]]
        ended = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in others)), 120)
        for process, (_, stderr) in zip(others, ended, strict=True):
            assert process.returncode == 0, stderr.decode()
        assert _refused_for_the_cap(running) == 0
        assert _peak(running) <= CAP
    assert victim.returncode == -signal.SIGKILL
    for path in files[1:]:
        assert len(list(path.parent.glob("exports/s*.csv"))) == EXPORTS


def test_a_runner_leaves_other_job_files_runs_alone_in_a_shared_state_dir(tmp_path: Path) -> None:
    import shutil
    import subprocess

    repo = Path(__file__).resolve().parents[2]
    state = tmp_path / "state"
    # Another job file's run, going on: its scratch files and a manifest being written.
    other = state / "runs" / "20261124T000000Z-other0"
    (other / "tmp").mkdir(parents=True)
    (other / "tmp" / "page-1.part").write_bytes(b"half a download")
    (other / ".manifest.json.tmp-abc123").write_text("{")
    shutil.copy(repo / "jobs.example.yaml", tmp_path / "jobs.yaml")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ZOHO_", "ZSYNC_"))}
    done = subprocess.run(
        [ZSYNC, "run", "jobs.yaml", "--emulator", "-q", "--state-dir", str(state)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (other / "tmp" / "page-1.part").read_bytes() == b"half a download"
    assert (other / ".manifest.json.tmp-abc123").exists()

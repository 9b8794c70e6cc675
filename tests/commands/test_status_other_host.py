"""`zsync status` of a run recorded as running on another host of a shared PostgreSQL store:
this host can't check its pid, so the run lock's renewals tell a live run from a dead one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from zsync.state.records import LockHolder, RunRecord
from zsync.state.store import LOCK_TTL, RunPut

pytest.importorskip("psycopg")

RUN = "20250302T090000Z-dddddd"


def _status(url: str, *args: str) -> Result:
    from zsync.cli import cli

    return CliRunner().invoke(cli, ["status", "--state-url", url, *args], prog_name="zsync")


@pytest.fixture
def running_elsewhere(tmp_path: Path, postgres_url: str) -> str:
    from zsync.state.postgres import PostgresStore

    run = RunRecord(
        run_id=RUN,
        scope=str(tmp_path / "jobs.yaml"),
        spec_path="jobs.yaml",
        spec_sha256="0" * 64,
        zsync_version="0.1.0",
        started_at="2025-03-02T09:00:00.000000Z",
        pid=4242,
        host="runner-7",
    )
    store = PostgresStore(postgres_url)
    try:
        store.apply([RunPut(run)])
        holder = LockHolder(run.scope, run.run_id, run.pid, run.host, run.started_at)
        assert store.acquire_lock(holder, lambda _: True).acquired
    finally:
        store.close()
    return postgres_url


def test_a_run_renewing_its_lock_is_still_running(running_elsewhere: str) -> None:
    done = _status(running_elsewhere)
    assert done.exit_code == 0, done.output
    head = done.output.splitlines()[0]
    assert ": running; started 2025-03-02 09:00:00 UTC, still running (" in head
    assert "on runner-7, its run lock renewed" in head
    assert json.loads(_status(running_elsewhere, "--output", "json").output)["still_running"]


def test_a_run_whose_lock_went_unrenewed_never_finished(running_elsewhere: str) -> None:
    import psycopg

    with psycopg.connect(running_elsewhere, autocommit=True) as db:
        db.execute(
            "UPDATE zsync_locks SET renewed_at = now() - make_interval(secs => %s)",
            (LOCK_TTL + 180,),
        )
    done = _status(running_elsewhere)
    assert done.exit_code == 0, done.output
    head = done.output.splitlines()[0]
    assert "never finished: its run lock on runner-7 wasn't renewed for 5m 0" in head
    assert f"resume it with: zsync run jobs.yaml --resume {RUN}" in done.output
    report = json.loads(_status(running_elsewhere, "--output", "json").output)
    assert report["still_running"] is False

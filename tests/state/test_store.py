"""The state store (SQLite and PostgreSQL alike), the recorder in front of it, the manifest
rendered from it, the lock. Tests taking `store` or `open_again` run on both backends."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from jsonschema import Draft202012Validator

from zsync.errors import LockedError, StateError
from zsync.manifest import point_latest, read_latest, write_manifest
from zsync.resources import load_schema
from zsync.state.lock import alive, holder_for, take_lock
from zsync.state.recorder import Recorder, _coalesced
from zsync.state.records import (
    ErrorRecord,
    ImportRecord,
    JobRecord,
    OutputRecord,
    RemoteJob,
    RunRecord,
    now,
)
from zsync.state.sqlite import SqliteStore
from zsync.state.store import (
    DURATIONS_KEPT,
    DurationPut,
    JobPut,
    RemotePut,
    RunPut,
    StateStore,
)

Opener = Callable[[], StateStore]


@pytest.fixture(params=["sqlite", "postgres"])
def open_again(request: pytest.FixtureRequest, tmp_path) -> Iterator[Opener]:
    """Opens the test's store, again each call: a fresh connection, as another process's."""
    if request.param == "postgres":
        from zsync.state.postgres import PostgresStore

        url = request.getfixturevalue("postgres_url")

        def opening() -> StateStore:
            return PostgresStore(url)
    else:

        def opening() -> StateStore:
            return SqliteStore(tmp_path / "state.db")

    opened: list[StateStore] = []

    def opener() -> StateStore:
        opened.append(opening())
        return opened[-1]

    yield opener
    for store in opened:
        store.close()


@pytest.fixture
def store(open_again: Opener) -> StateStore:
    return open_again()


def _run(run_id: str = "20260101T000000Z-abcdef", scope: str = "/jobs.yaml") -> RunRecord:
    return RunRecord(
        run_id=run_id,
        scope=scope,
        spec_path="jobs.yaml",
        spec_sha256="0" * 64,
        zsync_version="0",
        started_at=now(),
        pid=1,
        host="h",
    )


async def test_changes_reach_the_store_and_render_a_valid_manifest(
    tmp_path, store, open_again
) -> None:
    async with Recorder(store, _run(), {}) as recorder:
        recorder.put_run()
        recorder.put_job("a", JobRecord(direction="export", connection="crm", product="crm"))
        recorder.put_job("b", JobRecord(direction="import", connection="an", product="analytics"))
        index = recorder.add_remote("a", RemoteJob(id=None, created_at=now(), page=1))
        await recorder.durable()
        # The intent is on disk before the create call would go out.
        assert open_again().jobs(recorder.run.run_id)["a"].remote_jobs[0].id is None
        recorder.update_remote("a", index, id="111")
        recorder.remote_state("a", index, "pending", "ADDED")
        recorder.remote_state("a", index, "pending", "ADDED")
        recorder.remote_state("a", index, "completed", "COMPLETED")
        recorder.update_job(
            "a", status="succeeded", output=OutputRecord("out.csv", 10, 2, "0" * 64)
        )
        recorder.update_job(
            "b", status="failed", error=ErrorRecord("remote", "Zoho said no", code="INVALID_DATA")
        )
        recorder.put_run(outcome="failed", exit_code=1, ended_at=now())
    # A fresh connection (another process, say) reads back exactly what was recorded.
    again = open_again()
    assert again.jobs(recorder.run.run_id) == recorder.jobs
    assert again.run(recorder.run.run_id) == recorder.run
    assert again.job_counts(recorder.run.run_id) == {"succeeded": 1, "failed": 1}

    path = write_manifest(again, tmp_path, recorder.run.run_id)
    point_latest(tmp_path, recorder.run.run_id)
    written = json.loads(path.read_text())
    Draft202012Validator(load_schema("manifest")).validate(written)
    remote = written["jobs"]["a"]["remote_jobs"][0]
    assert remote["status_calls"] == 3
    assert [s["remote"] for s in remote["states"]] == ["ADDED", "COMPLETED"]
    assert written["jobs"]["b"]["error"] == {
        "class": "remote",
        "code": "INVALID_DATA",
        "message": "Zoho said no",
    }
    assert written["outcome"] == "failed"
    assert read_latest(tmp_path) == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["manifest.json"]


def test_a_batch_writes_each_row_once_with_its_last_value(store) -> None:
    run = _run()
    job = JobRecord(direction="export", connection="c", product="crm")
    remote = RemoteJob(id=None, created_at=now())
    batch = [
        RunPut(run),
        JobPut(run.run_id, "b", job),
        JobPut(run.run_id, "a", job),
        RemotePut(run.run_id, "b", 0, remote),
        *(RemotePut(run.run_id, "b", 0, replace(remote, status_calls=n)) for n in range(1, 6)),
        JobPut(run.run_id, "b", replace(job, status="succeeded")),
        RunPut(replace(run, outcome="succeeded")),
    ]
    if isinstance(store, SqliteStore):
        db = store._connection()
        before = db.total_changes
        store.apply(_coalesced(batch))
        assert db.total_changes - before == 4  # the run, two jobs, one Zoho job
    else:
        store.apply(_coalesced(batch))
    jobs = store.jobs(run.run_id)
    assert list(jobs) == ["b", "a"]  # in the order they were first queued
    assert jobs["b"].status == "succeeded"
    assert jobs["b"].remote_jobs[0].status_calls == 5
    assert store.run(run.run_id) == replace(run, outcome="succeeded")


def test_a_change_writes_one_row_whatever_the_run_size(tmp_path) -> None:
    """Constant work per change: nothing rewrites the run (the bench measures the time)."""
    store = SqliteStore(tmp_path / "state.db")
    run = _run()
    job = JobRecord(direction="export", connection="c", product="crm")
    store.apply([RunPut(run), *(JobPut(run.run_id, f"j{i}", job) for i in range(2000))])
    db = store._connection()
    before = db.total_changes
    store.apply([JobPut(run.run_id, "j1999", replace(job, status="running"))])
    store.apply([RemotePut(run.run_id, "j1999", 0, RemoteJob(id="1", created_at=now()))])
    assert db.total_changes - before == 2
    assert store.jobs(run.run_id)["j1999"].status == "running"


def test_landed_imports_find_earlier_runs_of_the_same_file(store) -> None:

    def imported(rows_landed: int, parts_landed: int) -> ImportRecord:
        return ImportRecord(
            "f.csv",
            10,
            4,
            2,
            sha256="s" * 64,
            target="t",
            mode="append",
            rows_landed=rows_landed,
            parts_landed=parts_landed,
        )

    job = JobRecord(direction="import", connection="an", product="analytics")
    store.apply(
        [
            RunPut(_run("20260101T000000Z-000001")),
            JobPut(
                "20260101T000000Z-000001",
                "load",
                replace(job, status="succeeded", imported=imported(4, 2)),
            ),
            RunPut(_run("20260101T000000Z-000002")),
            JobPut(
                "20260101T000000Z-000002",
                "load",
                replace(job, status="failed", imported=imported(0, 0)),
            ),
            RemotePut(
                "20260101T000000Z-000002", "load", 0, RemoteJob(id=None, created_at=now(), part=1)
            ),
            RunPut(_run("20260101T000000Z-000003")),
            JobPut(
                "20260101T000000Z-000003",
                "load",
                replace(job, status="failed", imported=imported(0, 0)),
            ),
            RemotePut(
                "20260101T000000Z-000003",
                "load",
                0,
                RemoteJob(id=None, created_at=now(), part=1, refused="8084"),
            ),
        ]
    )
    found = store.landed_imports("s" * 64, "t", "append", besides="other")
    assert [(f.run_id[-1], f.complete, f.uncertain) for f in found] == [
        ("2", False, True),  # a create whose answer never came: maybe landed
        ("1", True, False),
    ]  # run 3: Zoho refused the create, nothing landed
    assert store.landed_imports("s" * 64, "t", "truncateadd", besides="other") == []
    assert (
        len(store.landed_imports("s" * 64, "t", "append", besides="20260101T000000Z-000002")) == 1
    )


def test_a_newer_store_format_is_refused(tmp_path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    store._connection().execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    store.close()
    with pytest.raises(StateError, match="newer zsync"):
        SqliteStore(tmp_path / "state.db")


def test_a_file_that_is_no_database_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "state.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match="state store"):
        SqliteStore(tmp_path / "state.db")


async def test_lock_refuses_a_live_holder_and_takes_over_a_dead_one(store) -> None:
    log: list[str] = []
    first = holder_for("/jobs.yaml", "run-1")
    await take_lock(store, first, "jobs.yaml", wait=None, report=log.append)
    second = holder_for("/jobs.yaml", "run-2")
    with pytest.raises(LockedError, match=r"run run-1 \(pid \d+ on .*--wait-lock"):
        await take_lock(store, second, "jobs.yaml", wait=None, report=log.append)
    with pytest.raises(LockedError, match=r"waited 0\.3s"):
        await take_lock(store, second, "jobs.yaml", wait=0.3, report=log.append)
    assert any("waiting for the run lock" in line for line in log)

    # A holder whose process is gone (exited and reaped) is taken over, and the run says so.
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = holder_for("/jobs.yaml", "run-dead")
    dead = replace(dead, pid=int(gone.stdout))
    assert not alive(dead)
    store.release_lock("/jobs.yaml", "run-1")
    await take_lock(store, dead, "jobs.yaml", wait=None, report=log.append)
    await take_lock(store, second, "jobs.yaml", wait=None, report=log.append)
    assert "took over the run lock of run run-dead" in log[-1]

    # Waiting works once the holder lets go.
    async def release_soon() -> None:
        await asyncio.sleep(0.3)
        store.release_lock("/jobs.yaml", "run-2")

    third = holder_for("/jobs.yaml", "run-3")
    await asyncio.gather(
        release_soon(), take_lock(store, third, "jobs.yaml", wait=5, report=log.append)
    )


def test_durations_keep_the_newest_few_of_each_kind(store) -> None:
    table = "durations" if isinstance(store, SqliteStore) else "zsync_durations"
    try:
        changes = [DurationPut("a", n - 0.5, float(n), f"t{n}") for n in range(50)]
        store.apply([*changes, DurationPut("b", None, 7.0, "t")])
        found = store.durations(["a", "b", "c"])
        # Newest first; the table never holds more than DURATIONS_KEPT of a kind.
        assert found["a"] == [(n - 0.5, float(n)) for n in range(49, 49 - DURATIONS_KEPT, -1)]
        assert found["b"] == [(None, 7.0)]
        assert "c" not in found
        (count,) = store._read(f"SELECT count(*) FROM {table} WHERE key = 'a'")[0]
        assert count == DURATIONS_KEPT
    finally:
        store.close()


def test_latest_is_a_link_to_the_newest_run(tmp_path) -> None:
    for run_id in ("20260101T000000Z-aaaa", "20260102T000000Z-bbbb"):
        (tmp_path / "runs" / run_id).mkdir(parents=True)
        (tmp_path / "runs" / run_id / "manifest.json").write_text(json.dumps({"run": run_id}))
        point_latest(tmp_path, run_id)
    latest = tmp_path / "runs" / "latest"
    assert latest.is_symlink()
    # What a CI step reads: the newest manifest through the link.
    assert json.loads((latest / "manifest.json").read_text()) == {"run": "20260102T000000Z-bbbb"}
    assert read_latest(tmp_path) == tmp_path / "runs" / "20260102T000000Z-bbbb" / "manifest.json"
    assert [p.name for p in (tmp_path / "runs").iterdir() if p.name.startswith(".")] == []


def test_latest_written_by_an_older_zsync_is_still_read(tmp_path) -> None:
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "latest").write_text("20260101T000000Z-aaaa\n")
    assert read_latest(tmp_path) == tmp_path / "runs" / "20260101T000000Z-aaaa" / "manifest.json"
    (tmp_path / "runs" / "20260102T000000Z-bbbb").mkdir()
    point_latest(tmp_path, "20260102T000000Z-bbbb")  # the file is replaced by a link
    assert (tmp_path / "runs" / "latest").is_symlink()

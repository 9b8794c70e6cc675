"""What only the PostgreSQL store has to show: the same bytes as SQLite, its own migrations,
a run lock that two processes can't both take and that lapses without renewal, and errors
that never show the password. (tests/state/test_store.py runs the shared behaviour on both.)"""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

psycopg = pytest.importorskip("psycopg")

from zsync import redact  # noqa: E402
from zsync.background import beside  # noqa: E402
from zsync.errors import StateError, UsageError  # noqa: E402
from zsync.state.lock import alive, holder_for, keep_lock  # noqa: E402
from zsync.state.postgres import NoStateYet, PostgresStore  # noqa: E402
from zsync.state.postgres_schema import SCHEMA_VERSION, VERSIONS_TABLE  # noqa: E402
from zsync.state.records import (  # noqa: E402
    ErrorRecord,
    ImportRecord,
    JobRecord,
    LockHolder,
    OutputRecord,
    RemoteJob,
    RunRecord,
    StateChange,
    now,
)
from zsync.state.sqlite import SqliteStore  # noqa: E402
from zsync.state.store import Change, JobPut, RemotePut, RunPut  # noqa: E402
from zsync.state.urls import described, state_url_from  # noqa: E402

RUN = "20260101T000000Z-abcdef"


def _tricky_changes() -> list[Change]:
    """Records holding what JSON encoders disagree on: non-ASCII, quotes, backslashes,
    control characters, floats, big integers, nested summaries, empty objects."""
    run = RunRecord(RUN, "/jobs.yaml", "jobs.yaml", "0" * 64, "0", now(), 1, "h")
    job = JobRecord(direction="export", connection="crm", product="crm", status="succeeded")
    remote = RemoteJob(
        id="4711",
        created_at=now(),
        states=(StateChange("done", 'COMPLETED "ok"', now()),),
        summary={"é": 1.5e300, "tiny": 1e-05, "big": 12345678901234567890, "e": {}, "l": [0.1]},
    )
    imported = ImportRecord(
        "f.csv", 10, 4, 2, sha256="s" * 64, target="Café\\Sales", mode="append", rows_landed=4
    )
    return [
        RunPut(run),
        JobPut(RUN, "zeta", replace(job, output=OutputRecord("out/é.csv", 10, 2, "0" * 64))),
        JobPut(
            RUN,
            "alpha",
            replace(job, status="failed", error=ErrorRecord("remote", 'said "no"\n\tthen \x01')),
        ),
        JobPut(RUN, "mid-1", replace(job, direction="import", imported=imported)),
        RemotePut(RUN, "zeta", 0, remote),
        RemotePut(RUN, "zeta", 1, replace(remote, id=None, summary=None)),
        RemotePut(RUN, "alpha", 0, replace(remote, refused="8084")),
    ]


def test_jobs_text_is_sqlites_byte_for_byte(postgres_url, tmp_path) -> None:
    sqlite, postgres = SqliteStore(tmp_path / "state.db"), PostgresStore(postgres_url)
    try:
        changes = _tricky_changes()
        for store in (sqlite, postgres):
            store.apply(changes)
        assert postgres.jobs_text(RUN) == sqlite.jobs_text(RUN)
        assert postgres.jobs(RUN) == sqlite.jobs(RUN)
        assert list(postgres.jobs(RUN)) == ["zeta", "alpha", "mid-1"]  # as first recorded
        assert postgres.jobs_text("no-such-run") == sqlite.jobs_text("no-such-run") == "{}"
    finally:
        sqlite.close()
        postgres.close()


def test_the_schema_is_created_once_and_versioned(postgres_url) -> None:
    # Runners starting at once against an empty database: one creates, the others wait.
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: PostgresStore(postgres_url), range(4)))
    for store in stores:
        store.close()
    with psycopg.connect(postgres_url) as db:
        versions = db.execute(f"SELECT version FROM {VERSIONS_TABLE}").fetchall()
    assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]


def test_a_store_written_by_a_newer_zsync_is_refused(postgres_url) -> None:
    PostgresStore(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute(f"INSERT INTO {VERSIONS_TABLE} (version) VALUES (99)")
    with pytest.raises(StateError, match="newer zsync"):
        PostgresStore(postgres_url)
    with pytest.raises(StateError, match="newer zsync"):
        PostgresStore(postgres_url, read_only=True)


def test_reading_creates_and_writes_nothing(postgres_url) -> None:
    with pytest.raises(NoStateYet):
        PostgresStore(postgres_url, read_only=True)
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT to_regclass(%s)", (VERSIONS_TABLE,)).fetchone() == (None,)
    PostgresStore(postgres_url).close()
    reader = PostgresStore(postgres_url, read_only=True)
    try:
        assert reader.runs() == []
        with pytest.raises(StateError, match="read-only"):
            reader.apply(_tricky_changes())
    finally:
        reader.close()


def _holder(run_id: str, host: str = "elsewhere") -> LockHolder:
    return LockHolder("/jobs.yaml", run_id, 1, host, now())


def test_two_processes_never_both_hold_the_lock(postgres_url) -> None:
    stores = [PostgresStore(postgres_url) for _ in range(8)]
    start = threading.Barrier(len(stores))

    def take(index: int) -> bool:
        start.wait()
        return stores[index].acquire_lock(_holder(f"run-{index}"), lambda h: True).acquired

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            taken = list(pool.map(take, range(len(stores))))
        assert taken.count(True) == 1
    finally:
        for store in stores:
            store.close()


def test_a_holder_that_stops_renewing_is_taken_as_gone(postgres_url) -> None:
    store = PostgresStore(postgres_url, lock_ttl=0.5)
    try:
        # Another host: its pid can't be checked (alive says so), only its renewals.
        first = _holder("run-1")
        assert store.acquire_lock(first, lambda h: True).acquired
        second = _holder("run-2")
        for _ in range(3):
            time.sleep(0.25)
            assert store.renew_lock("/jobs.yaml", "run-1")
            refused = store.acquire_lock(second, lambda h: True)
            assert not refused.acquired and refused.holder == first
        time.sleep(0.7)  # run-1 stopped renewing
        taken = store.acquire_lock(second, lambda h: True)
        assert taken.acquired and taken.holder == first
        assert not store.renew_lock("/jobs.yaml", "run-1")  # it learns it lost the lock
        store.release_lock("/jobs.yaml", "run-1")  # not its lock any more: nothing happens
        assert not store.acquire_lock(_holder("run-3"), lambda h: True).acquired
        store.release_lock("/jobs.yaml", "run-2")
        assert store.acquire_lock(_holder("run-3"), lambda h: True) == (True, None)
        store.release_lock("/jobs.yaml", "run-3")

        # On this host the pid decides, renewed or not: a live process keeps its lock.
        here = holder_for("/jobs.yaml", "run-4")
        assert store.acquire_lock(here, alive).acquired
        time.sleep(0.7)
        assert not store.acquire_lock(_holder("run-5"), alive).acquired
    finally:
        store.close()


def test_a_wrong_password_is_one_line_without_it(wrong_password_url) -> None:
    password = urllib.parse.urlsplit(wrong_password_url).password
    assert password
    with pytest.raises(StateError) as caught:
        PostgresStore(wrong_password_url)
    message = str(caught.value)
    assert message.startswith("can't open the state store postgresql://")
    assert "password authentication failed" in message
    assert password not in message and "\n" not in message
    assert password not in redact.text(wrong_password_url)


def test_an_unreachable_server_is_a_state_error() -> None:
    with pytest.raises(StateError, match=r"can't open the state store postgresql://zsync@"):
        PostgresStore("postgresql://zsync:s3cret-pw@127.0.0.1:1/zsync?connect_timeout=2")


def test_urls_show_no_password() -> None:
    assert described("postgresql://u:p%40ss@db:5432/z") == "postgresql://u@db:5432/z"
    assert described("postgres://db/z?password=abc&sslmode=require") == (
        "postgres://db/z?password=***&sslmode=require"
    )


def test_the_environment_overrides_the_job_file() -> None:
    env = {"ZSYNC_STATE_URL": "postgresql://env/db"}
    assert state_url_from("postgresql://file/db", env) == "postgresql://env/db"
    assert state_url_from("postgresql://file/db", {}) == "postgresql://file/db"
    assert state_url_from(None, {}) is None
    with pytest.raises(UsageError, match="give a postgresql:// URL"):
        state_url_from("mysql://u:pw@db/x", {})


async def test_a_running_zsync_keeps_its_lock_renewed(postgres_url) -> None:
    store = PostgresStore(postgres_url, lock_ttl=0.3)
    said: list[str] = []
    try:
        assert store.acquire_lock(_holder("run-1"), lambda h: True).acquired
        async with beside(keep_lock(store, "/jobs.yaml", "run-1", said.append, every=0.05), "k"):
            await asyncio.sleep(0.8)  # well past the TTL: still held, as it was renewed
            assert not store.acquire_lock(_holder("run-2"), lambda h: True).acquired
        await asyncio.sleep(0.5)  # renewals stopped with the run
        assert store.acquire_lock(_holder("run-2"), lambda h: True).acquired
        assert said == []
    finally:
        store.close()

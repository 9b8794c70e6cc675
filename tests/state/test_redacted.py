"""RedactedStore: what a run records reaches the store with every secret masked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest

from zsync import redact
from zsync.state.records import (
    ErrorRecord,
    ImportRecord,
    JobRecord,
    RemoteJob,
    RunRecord,
    StateChange,
    now,
)
from zsync.state.redacted import RedactedStore, stored_target
from zsync.state.sqlite import SqliteStore
from zsync.state.store import JobPut, RemotePut, RunPut

SECRET = "org-secret-4242"
RUN = "20260101T000000Z-abcdef"


@pytest.fixture(autouse=True)
def registered() -> Iterator[None]:
    with redact.scope():
        redact.add(SECRET)
        yield


def _run() -> RunRecord:
    return RunRecord(RUN, "/jobs.yaml", "jobs.yaml", "0" * 64, "0", now(), 1, "h")


def _imported(target: str) -> ImportRecord:
    return ImportRecord(
        "f.csv", 10, 1, 1, sha256="s" * 64, target=target, mode="append", rows_landed=1
    )


def test_records_are_masked_on_their_way_in(tmp_path) -> None:
    store = RedactedStore(SqliteStore(tmp_path / "state.db"))
    failed = JobRecord(
        direction="export",
        connection="crm",
        product="crm",
        status="failed",
        error=ErrorRecord("remote", f"POST https://u:p@h/{SECRET}: no"),
    )
    remote = RemoteJob(
        id="1",
        created_at=now(),
        states=(StateChange("failed", SECRET, now()),),
        summary={"m": SECRET},
    )
    store.apply([RunPut(_run()), JobPut(RUN, "a", failed), RemotePut(RUN, "a", 0, remote)])
    job = store.jobs(RUN)["a"]
    assert job.error is not None
    assert job.error.message == "POST https://***@h/***: no"
    assert job.remote_jobs[0].states[0].remote == "***"
    assert job.remote_jobs[0].summary == {"m": "***"}
    assert SECRET not in store.jobs_text(RUN)
    assert SECRET.encode() not in (tmp_path / "state.db").read_bytes()


def test_an_import_target_holding_a_secret_is_kept_hashed_and_still_found(tmp_path) -> None:
    store = RedactedStore(SqliteStore(tmp_path / "state.db"))
    secret_target = json.dumps({"org_id": SECRET, "table": "T"})
    other_target = json.dumps({"org_id": SECRET + "0", "table": "T"})
    plain_target = json.dumps({"org_id": "1", "table": "T"})
    job = JobRecord(direction="import", connection="an", product="analytics", status="succeeded")
    store.apply(
        [
            RunPut(_run()),
            JobPut(RUN, "secret", replace(job, imported=_imported(secret_target))),
            JobPut(RUN, "plain", replace(job, imported=_imported(plain_target))),
        ]
    )
    recorded = store.jobs(RUN)
    assert recorded["secret"].imported is not None
    assert recorded["secret"].imported.target == stored_target(secret_target)
    assert recorded["secret"].imported.target.startswith("sha256:")
    assert recorded["plain"].imported is not None
    assert recorded["plain"].imported.target == plain_target
    # The never-twice rule looks the import up by its real target, as the run knows it.
    assert [
        f.job for f in store.landed_imports("s" * 64, secret_target, "append", besides="x")
    ] == ["secret"]
    assert store.landed_imports("s" * 64, other_target, "append", besides="x") == []
    assert [f.job for f in store.landed_imports("s" * 64, plain_target, "append", besides="x")] == [
        "plain"
    ]

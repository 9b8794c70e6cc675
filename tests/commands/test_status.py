"""`zsync status` and `zsync runs` over a real SQLite state store built in tmp_path."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from zsync.commands.runs import runs
from zsync.commands.status import status
from zsync.errors import UsageError
from zsync.state.records import (
    ErrorRecord,
    ImportRecord,
    JobRecord,
    LockHolder,
    OutputRecord,
    RemoteJob,
    RunRecord,
)
from zsync.state.sqlite import SqliteStore
from zsync.state.store import Change, JobPut, RemotePut, RunPut

FINISHED = "20250301T101500Z-aaaaaa"
UNFINISHED = "20250302T090000Z-bbbbbb"
LEADS_IDS = ("4150868000000624001", "4150868000000624002")


def _run(tmp_path: Path, run_id: str, started: str, **changes: object) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        scope=str(tmp_path / "jobs.yaml"),
        spec_path="jobs.yaml",
        spec_sha256="0" * 64,
        zsync_version="0.1.0",
        started_at=started,
        pid=4242,
        host="builder",
        **changes,  # type: ignore[arg-type]
    )


def _remote(remote_id: str | None, page: int) -> RemoteJob:
    return RemoteJob(id=remote_id, created_at="2025-03-01T10:15:01.000000Z", page=page)


def _finished(tmp_path: Path) -> list[Change]:
    run = _run(
        tmp_path,
        FINISHED,
        "2025-03-01T10:15:00.000000Z",
        ended_at="2025-03-01T10:16:12.400000Z",
        outcome="failed",
        exit_code=1,
    )
    leads = JobRecord(
        direction="export",
        connection="crm",
        product="crm",
        status="succeeded",
        remote_jobs=tuple(_remote(i, page) for page, i in enumerate(LEADS_IDS, start=1)),
        output=OutputRecord(path="out/leads.csv", bytes=523_001, rows=1204, sha256="a" * 64),
    )
    contacts = JobRecord(
        direction="import",
        connection="analytics",
        product="analytics",
        status="failed",
        remote_jobs=(_remote("1767024000003153001", 1),),
        imported=ImportRecord(file="out/contacts.csv", bytes=2048, rows=1000, parts=2),
        error=ErrorRecord("remote", "Zoho refused the import:\ncolumn Email is missing", "7005"),
    )
    deals = JobRecord(
        direction="export",
        connection="bigin",
        product="bigin",
        status="skipped",
        reason="needs contacts_to_analytics, which failed",
    )
    changes: list[Change] = [RunPut(run)]
    for name, job in {
        "crm_leads": leads,
        "contacts_to_analytics": contacts,
        "deals": deals,
    }.items():
        changes.append(JobPut(FINISHED, name, job))
        changes.extend(RemotePut(FINISHED, name, i, r) for i, r in enumerate(job.remote_jobs))
    return changes


def _unfinished(tmp_path: Path, outcome: str = "running") -> list[Change]:
    run = _run(tmp_path, UNFINISHED, "2025-03-02T09:00:00.000000Z", outcome=outcome)
    intent = _remote(None, 1)  # the create call was sent; its answer never came
    leads = JobRecord(
        direction="export", connection="crm", product="crm", status="running", remote_jobs=(intent,)
    )
    queued = JobRecord(direction="export", connection="bigin", product="bigin")
    return [
        RunPut(run),
        JobPut(UNFINISHED, "crm_leads", leads),
        RemotePut(UNFINISHED, "crm_leads", 0, intent),
        JobPut(UNFINISHED, "deals", queued),
    ]


def _store(state_dir: Path, changes: list[Change]) -> Path:
    store = SqliteStore(state_dir / "state.db")
    try:
        store.apply(changes)
        for change in changes:  # a running run holds its job file's run lock
            if isinstance(change, RunPut) and change.run.outcome == "running":
                store.acquire_lock(holder_of(change.run), lambda _: True)
    finally:
        store.close()
    return state_dir


def holder_of(run: RunRecord) -> LockHolder:
    return LockHolder(run.scope, run.run_id, run.pid, run.host, run.started_at)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A store holding a finished run and, newer, one still running."""
    return _store(tmp_path / ".zsync", _finished(tmp_path) + _unfinished(tmp_path))


def _cli(*args: str) -> Result:
    from zsync.cli import cli  # imported here: the commands' own tests don't need the CLI

    return CliRunner().invoke(cli, list(args), prog_name="zsync")


def _line(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.strip().startswith(start))


# -- zsync status ------------------------------------------------------------------------


def test_status_of_a_finished_run(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert status(FINISHED, state_dir=str(state_dir)) == 0
    out = capsys.readouterr().out
    head = out.splitlines()[0]
    assert head.startswith(f"run {FINISHED} of {state_dir.parent / 'jobs.yaml'}: failed;")
    assert "started 2025-03-01 10:15:00 UTC" in head
    assert "ended 2025-03-01 10:16:12 UTC (took 1m 12s)" in head
    assert _line(out, "JOB").split() == ["JOB", "STATUS", "ROWS", "BYTES", "ZOHO", "JOBS"]
    leads = _line(out, "crm_leads")
    assert leads.split()[:5] == ["crm_leads", "succeeded", "1,204", "510.7", "KiB"]
    assert leads.endswith(", ".join(LEADS_IDS))
    contacts = _line(out, "contacts_to_analytics")
    assert "failed" in contacts
    assert "0/1,000" in contacts
    assert "1767024000003153001" in contacts
    assert contacts.endswith(
        "remote error [7005]: Zoho refused the import: column Email is missing"
    )
    deals = _line(out, "deals")
    assert deals.split()[:6] == ["deals", "skipped", "-", "-", "none", "needs"]
    # Columns line up: every job's status starts where the header's does.
    columns = {"JOB": "STATUS", "crm_leads": "succeeded", "contacts_to_analytics": "failed"}
    assert len({_line(out, name).find(f" {word} ") for name, word in columns.items()}) == 1
    assert "resume it with" not in out


def test_status_of_an_unfinished_run_says_how_to_resume_it(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert status(state_dir=str(state_dir)) == 0  # latest: the newest run
    out = capsys.readouterr().out
    assert out.startswith(f"run {UNFINISHED} of ")
    assert ": running; started 2025-03-02 09:00:00 UTC, still running" in out
    assert "on builder, holding its run lock)" in out.splitlines()[0]
    assert _line(out, "crm_leads").split() == ["crm_leads", "running", "-", "-", "none"]
    assert _line(out, "deals").split() == ["deals", "queued", "-", "-", "none"]
    assert out.splitlines()[-1] == f"resume it with: zsync run jobs.yaml --resume {UNFINISHED}"


def test_a_run_on_another_host_that_lost_its_lock_never_finished(tmp_path: Path) -> None:
    changes = _unfinished(tmp_path)
    state_dir = _store(tmp_path / ".zsync", changes)
    died = changes[0]
    assert isinstance(died, RunPut)
    store = SqliteStore(state_dir / "state.db")
    try:  # the run died there; a later run on this host took the job file's lock
        later = replace(holder_of(died.run), run_id="20250302T100000Z-cccccc")
        store.acquire_lock(later, lambda _: False)
    finally:
        store.close()
    done = _cli("status", "--state-dir", str(state_dir))
    assert done.exit_code == 0, done.output
    assert "never finished: it no longer holds its job file's run lock (on builder)" in done.output
    report = json.loads(_cli("status", "--state-dir", str(state_dir), "--output", "json").output)
    assert report["still_running"] is False
    listed = _cli("runs", "--state-dir", str(state_dir))
    assert _line(listed.output, UNFINISHED).split()[4:6] == ["running", "(gone)"]
    [run] = json.loads(_cli("runs", "--state-dir", str(state_dir), "--output", "json").output)
    assert run["still_running"] is False


def test_a_run_whose_pid_another_process_took_never_finished(tmp_path: Path) -> None:
    # The run died on this host and its pid went to a live process (this one); the lock
    # says when the run's process started, which this one didn't.
    run = _run(tmp_path, UNFINISHED, "2025-03-02T09:00:00.000000Z")
    here = replace(run, pid=os.getpid(), host=socket.gethostname())
    state_dir = tmp_path / ".zsync"
    store = SqliteStore(state_dir / "state.db")
    try:
        store.apply([RunPut(here)])
        store.acquire_lock(replace(holder_of(here), process_start="1"), lambda _: True)
    finally:
        store.close()
    done = _cli("status", "--state-dir", str(state_dir))
    assert done.exit_code == 0, done.output
    assert f"never finished: its process (pid {os.getpid()} on " in done.output

    store = SqliteStore(state_dir / "state.db")
    try:  # the same run, with the lock telling this process's own start: alive
        store.release_lock(here.scope, here.run_id)
        store.acquire_lock(replace(holder_of(here), process_start=None), lambda _: True)
    finally:
        store.close()
    assert ", still running (" in _cli("status", "--state-dir", str(state_dir)).output


@pytest.mark.parametrize(
    ("outcome", "resumable", "end"),
    [
        ("abandoned", True, "never finished"),
        ("interrupted", True, "never finished"),
        ("timed_out", False, "never finished"),
    ],
)
def test_resume_command_only_for_runs_that_can_be_resumed(
    tmp_path: Path, outcome: str, resumable: bool, end: str
) -> None:
    state_dir = _store(tmp_path / ".zsync", _unfinished(tmp_path, outcome))
    done = _cli("status", "--state-dir", str(state_dir))
    assert done.exit_code == 0, done.output
    assert f": {outcome}; started 2025-03-02 09:00:00 UTC, {end}" in done.output
    assert ("resume it with: zsync run jobs.yaml --resume" in done.output) is resumable


def test_status_json_is_the_manifest_plus_the_resume_command(state_dir: Path) -> None:
    done = _cli("status", FINISHED, "--state-dir", str(state_dir), "--output", "json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["run_id"] == FINISHED
    assert report["outcome"] == "failed"
    assert report["spec"]["path"] == "jobs.yaml"
    assert report["resume_command"] is None
    assert list(report["jobs"]) == ["crm_leads", "contacts_to_analytics", "deals"]
    leads = report["jobs"]["crm_leads"]
    assert [r["id"] for r in leads["remote_jobs"]] == list(LEADS_IDS)
    assert leads["output"]["rows"] == 1204
    assert report["jobs"]["contacts_to_analytics"]["error"]["code"] == "7005"

    latest = json.loads(_cli("status", "--state-dir", str(state_dir), "--output", "json").output)
    assert latest["run_id"] == UNFINISHED
    assert latest["resume_command"] == f"zsync run jobs.yaml --resume {UNFINISHED}"


def test_status_reads_dot_zsync_in_the_current_directory(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(state_dir.parent)
    done = _cli("status", FINISHED)
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"run {FINISHED} ")


def test_status_without_a_store_is_a_usage_error_and_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(UsageError, match=r"no state store in .*nowhere"):
        status(state_dir=str(missing))
    done = _cli("status", "--state-dir", str(missing))
    assert done.exit_code == 2
    assert done.output.startswith("zsync: error: no state store in ")
    assert done.output.count("\n") == 1
    assert not missing.exists()


def test_status_of_an_unknown_run_is_a_usage_error(state_dir: Path) -> None:
    done = _cli("status", "20990101T000000Z-nope00", "--state-dir", str(state_dir))
    assert done.exit_code == 2
    assert done.output == (
        f"zsync: error: no run '20990101T000000Z-nope00' in {state_dir}; "
        "`zsync runs` lists the recorded runs\n"
    )


def test_status_of_an_empty_store(tmp_path: Path) -> None:
    state_dir = _store(tmp_path / ".zsync", [])
    done = _cli("status", "--state-dir", str(state_dir))
    assert done.exit_code == 2
    assert done.output == f"zsync: error: no runs recorded in {state_dir}\n"


def test_an_unreadable_store_is_a_usage_error(tmp_path: Path) -> None:
    state_dir = tmp_path / ".zsync"
    state_dir.mkdir()
    (state_dir / "state.db").write_bytes(b"this is not a database, but long enough to look" * 20)
    for args in (["status"], ["runs"]):
        done = _cli(*args, "--state-dir", str(state_dir))
        assert done.exit_code == 2, done.output
        assert done.output.startswith("zsync: error: ")
        assert f"{state_dir / 'state.db'}: file is not a database" in done.output
        assert done.output.count("\n") == 1
        assert "Traceback" not in done.output


# -- zsync runs --------------------------------------------------------------------------


def test_runs_lists_newest_first(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert runs(state_dir=str(state_dir)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["RUN", "STARTED", "(UTC)", "TOOK", "OUTCOME", "JOBS", "JOB", "FILE"]
    job_file = str(state_dir.parent / "jobs.yaml")
    assert lines[1].split() == [
        UNFINISHED, "2025-03-02", "09:00:00", "-", "running", "1", "running,", "1", "queued",
        job_file,
    ]  # fmt: skip
    assert lines[2].split() == [
        FINISHED, "2025-03-01", "10:15:00", "1m", "12s", "failed",
        "1", "succeeded,", "1", "failed,", "1", "skipped", job_file,
    ]  # fmt: skip
    assert len(lines) == 3


def test_runs_limit_says_when_older_runs_are_left_out(state_dir: Path) -> None:
    done = _cli("runs", "--limit", "1", "--state-dir", str(state_dir))
    assert done.exit_code == 0, done.output
    assert UNFINISHED in done.output
    assert FINISHED not in done.output
    assert (
        done.output.splitlines()[-1] == "(older runs not shown: raise --limit above 1 to see them)"
    )
    assert _cli("runs", "--limit", "0", "--state-dir", str(state_dir)).exit_code == 2


def test_runs_json(state_dir: Path) -> None:
    done = _cli("runs", "--state-dir", str(state_dir), "--output", "json")
    assert done.exit_code == 0, done.output
    listed = json.loads(done.output)
    assert [r["run_id"] for r in listed] == [UNFINISHED, FINISHED]
    assert listed[1] == {
        "run_id": FINISHED,
        "started_at": "2025-03-01T10:15:00.000000Z",
        "ended_at": "2025-03-01T10:16:12.400000Z",
        "duration_seconds": 72.4,
        "outcome": "failed",
        "jobs": {"succeeded": 1, "failed": 1, "skipped": 1},
        "job_file": str(state_dir.parent / "jobs.yaml"),
        "still_running": None,
    }
    assert listed[0]["duration_seconds"] is None
    assert listed[0]["jobs"] == {"running": 1, "queued": 1}
    assert listed[0]["still_running"] is True  # on builder, holding its job file's lock


def test_runs_without_a_store_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / ".zsync"
    done = _cli("runs", "--state-dir", str(missing))
    assert done.exit_code == 0
    assert done.output == f"no runs recorded in {missing}\n"
    done = _cli("runs", "--state-dir", str(missing), "--output", "json")
    assert done.exit_code == 0
    assert json.loads(done.output) == []
    assert not missing.exists()


def test_runs_of_an_empty_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state_dir = _store(tmp_path / ".zsync", [])
    assert runs(state_dir=str(state_dir)) == 0
    assert capsys.readouterr().out == f"no runs recorded in {state_dir}\n"

"""Starting a run: a new one or the resumption of an earlier one, under the job file's lock.

Before anything runs: take the lock (one run per job file and state store), mark runs whose
process died `abandoned` (and say how to resume them), sweep what killed runs left behind,
then decide, on resume, which jobs are done (their output still there, byte for byte) and
which go again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import shlex
import shutil
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from zsync import __version__, redact
from zsync.background import beside
from zsync.errors import UsageError
from zsync.fingerprints import definition_sha256
from zsync.interrupts import RunInterrupts
from zsync.locations import is_url
from zsync.manifest import point_latest, write_manifest
from zsync.output_pattern import job_output
from zsync.plan import Plan
from zsync.sinks.atomic import digest, remove_leftovers
from zsync.sinks.remote import Storage
from zsync.spec.model import Spec
from zsync.state import STATE_DIR_NAME
from zsync.state.lock import holder_for, keep_lock, take_lock
from zsync.state.recorder import Recorder
from zsync.state.records import DONE, JobRecord, RunRecord, new_run_id, now
from zsync.state.redacted import RedactedStore
from zsync.state.sqlite import SqliteStore
from zsync.state.store import StateStore
from zsync.state.urls import check_state_url, described

Report = Callable[[str], None]
STATE_FILE = "state.db"


def state_dir_for(spec: Spec, state_dir: str | Path | None) -> Path:
    """--state-dir as given (relative to the working directory, as every path on a command
    line), else .zsync/ beside the job file."""
    return Path(state_dir) if state_dir else spec.path.parent / STATE_DIR_NAME


# Seconds after which a temporary file shared by runners is surely not being written.
STALE_TEMPORARY = 600.0


def open_store(state_dir: Path, state_url: str | None = None) -> StateStore:
    """The state store at `state_url` (PostgreSQL, shared) when given, else the SQLite file in
    `state_dir`. The state directory keeps the manifests and scratch files either way."""
    if state_url:
        check_state_url(state_url)
        # Imported only here: a run on the SQLite file doesn't need the driver installed.
        try:
            from zsync.state.postgres import PostgresStore
        except ImportError as exc:
            raise UsageError(
                f"the state store {described(state_url)} needs PostgreSQL's driver: "
                "pip install 'zoho-zsync[postgres]'"
            ) from exc
        return PostgresStore(state_url)
    return SqliteStore(state_dir / STATE_FILE)


@contextlib.asynccontextmanager
async def started_run(
    plan: Plan,
    state_dir: Path,
    *,
    resume: str | None = None,
    wait_lock: float | None = None,
    emulator: str | None = None,
    report: Report = lambda message: None,
    interrupts: RunInterrupts | None = None,
    state_url: str | None = None,
) -> AsyncIterator[Recorder]:
    """A recorder for a new run of `plan`, or for the resumed run `resume` ('latest' or an
    id); holds the job file's run lock until the block ends.

    Until the lock is taken, `interrupts` may cancel this (nothing is recorded yet); from
    then on they are kept for the run's own handler, so a run is never half-recorded.
    Everything the run records passes through zsync.redact (a RedactedStore). `state_url`:
    the shared store to record in (see `open_store`)."""
    spec = plan.spec
    scope = str(spec.path.resolve())
    store = await asyncio.to_thread(open_store, state_dir, state_url)
    try:
        resumed = await asyncio.to_thread(_find_run, store, scope, resume) if resume else None
        run_id = resumed.run_id if resumed else new_run_id()
        holder = holder_for(scope, run_id)
        # Cancelled just as the lock is taken, the lock stays behind: the next run takes it
        # over, as its holder's process is gone.
        await take_lock(store, holder, str(spec.path), wait=wait_lock, report=report)
        if interrupts is not None:
            interrupts.keep()
        lost = asyncio.Event()
        try:
            async with (
                beside(keep_lock(store, scope, run_id, report, lost=lost), "run lock renewal"),
                _recording(
                    store, plan, state_dir, scope, run_id, resumed, emulator, report
                ) as recorder,
            ):
                recorder.lock_lost = lost
                yield recorder
        finally:
            await asyncio.to_thread(store.release_lock, scope, run_id)
    finally:
        store.close()


@contextlib.asynccontextmanager
async def _recording(
    store: StateStore,
    plan: Plan,
    state_dir: Path,
    scope: str,
    run_id: str,
    resumed: RunRecord | None,
    emulator: str | None,
    report: Report,
) -> AsyncIterator[Recorder]:
    """Sweep what earlier runs left, then record the new or resumed run (the lock is held)."""
    spec = plan.spec
    await asyncio.to_thread(
        _sweep, store, spec, state_dir, scope, run_id if resumed else None, report
    )
    if resumed is not None:
        run, jobs, changed = await asyncio.to_thread(
            _resumed, store, plan, resumed, emulator, report
        )
    else:
        run = _new_run(plan, run_id, scope, emulator)
        jobs = {name: _fresh(plan, name) for name in plan.jobs}
        changed = set(jobs)
    async with Recorder(RedactedStore(store), run, {}) as recorder:
        recorder.put_run()
        for name, record in jobs.items():
            recorder.put_job(name, record, write=name in changed)
        await recorder.durable()
        await asyncio.to_thread(point_latest, state_dir, run_id)
        yield recorder


def resume_command(spec_path: str, run_id: str) -> str:
    return f"zsync run {shlex.quote(spec_path)} --resume {shlex.quote(run_id)}"


def _find_run(store: StateStore, scope: str, wanted: str) -> RunRecord:
    if wanted == "latest":
        runs = store.runs(scope, limit=1)
        if not runs:
            raise UsageError(f"--resume latest: no run of {scope} is recorded yet")
        return runs[0]
    run = store.run(wanted)
    if run is None:
        raise UsageError(f"--resume {wanted}: no such run (zsync runs lists them)")
    if run.scope != scope:
        raise UsageError(f"--resume {wanted}: that run ran {run.scope}, not {scope}")
    return run


def _new_run(plan: Plan, run_id: str, scope: str, emulator: str | None) -> RunRecord:
    spec_path = plan.spec.path
    return RunRecord(
        run_id=run_id,
        scope=scope,
        spec_path=str(spec_path),
        spec_sha256=hashlib.sha256(spec_path.read_bytes()).hexdigest(),
        zsync_version=__version__,
        started_at=now(),
        pid=os.getpid(),
        host=socket.gethostname(),
        emulator=emulator,
    )


def _fresh(plan: Plan, name: str) -> JobRecord:
    planned = plan.jobs[name]
    return JobRecord(
        direction=planned.direction,
        connection=planned.connection,
        product=planned.product,
        definition_sha256=definition_sha256(plan.spec, plan.spec.jobs[name]),
    )


def _sweep(
    store: StateStore,
    spec: Spec,
    state_dir: Path,
    scope: str,
    keep: str | None,
    report: Report,
) -> None:
    """Mark this job file's runs whose process is gone `abandoned` (we hold the lock: none of
    them still runs) and remove what killed runs left behind. Only this job file's: runners
    of other job files may share the state directory, and their runs go on."""
    dead = [run for run in store.unfinished(scope) if run.run_id != keep]
    for run in dead:
        store.end_run(run.run_id, "abandoned", None, now())
        write_manifest(store, state_dir, run.run_id)
        report(
            f"run {run.run_id} (started {run.started_at}) never finished: its process is gone. "
            f"Marked abandoned; to resume it: {resume_command(str(spec.path), run.run_id)}"
        )
    removed: list[Path] = []
    # An output with placeholders names other files in each run: those of the dead runs and
    # of the one resumed, besides the output as written. An object store keeps no leftovers:
    # results are built in the run's scratch (below).
    resumed = store.run(keep) if keep else None
    swept = [*dead, resumed] if resumed else dead
    for name, job in ({} if spec.output_url else spec.jobs).items():
        destinations = {spec_output(spec, name, run) for run in swept}
        for destination in destinations | {spec.output_dir / (job.output or name)}:
            removed += remove_leftovers(destination)
            if job.direction == "import":
                results = destination.with_name(destination.name + ".results.csv")
                removed += remove_leftovers(results)
    runs = state_dir / "runs"
    for run in dead:
        scratch = runs / run.run_id / "tmp"
        if scratch.is_dir():
            shutil.rmtree(scratch, ignore_errors=True)
            removed.append(scratch)
        for temp in (runs / run.run_id).glob(".manifest.json.tmp-*"):
            temp.unlink(missing_ok=True)
            removed.append(temp)
    # The latest link is the state directory's, not one job file's: only a temporary link
    # old enough that no live runner can still be writing it is a leftover.
    for temp in runs.glob(".latest.tmp-*"):
        with contextlib.suppress(OSError):
            if time.time() - temp.lstat().st_mtime > STALE_TEMPORARY:
                temp.unlink()
                removed.append(temp)
    if removed:
        report(f"removed {len(removed)} temporary file(s) left by an earlier run")


def _resumed(
    store: StateStore, plan: Plan, run: RunRecord, emulator: str | None, report: Report
) -> tuple[RunRecord, dict[str, JobRecord], set[str]]:
    """The run record and jobs to go on with; the names of jobs whose records changed."""
    run = store.run(run.run_id) or run  # as it is now we hold the lock (a waited-for run moved)
    before = store.jobs(run.run_id)
    jobs: dict[str, JobRecord] = {}
    changed: set[str] = set()
    kept = 0
    for name in plan.jobs:
        fresh = _fresh(plan, name)
        old = before.get(name)
        if old is None:
            jobs[name] = fresh
            changed.add(name)
            continue
        if old.definition_sha256 != fresh.definition_sha256:
            report(f"{name}: its definition changed since run {run.run_id}; it runs again")
            jobs[name] = dataclasses.replace(
                fresh, attempts=old.attempts, remote_jobs=old.remote_jobs, imported=old.imported
            )
            changed.add(name)
            continue
        if old.status in DONE and _still_there(old, spec_output(plan.spec, name, run), plan.spec):
            jobs[name] = old
            kept += 1
            continue
        if old.status in DONE:
            report(f"{name}: its output is gone or changed since run {run.run_id}; it runs again")
        jobs[name] = dataclasses.replace(old, status="queued")
        changed.add(name)
    report(f"resuming run {run.run_id}: {kept} job(s) done and verified, {len(jobs) - kept} to run")
    resumed = dataclasses.replace(
        run,
        outcome="running",
        exit_code=None,
        ended_at=None,
        pid=os.getpid(),
        host=socket.gethostname(),
        emulator=emulator,
        resumed_at=(*run.resumed_at, now()),
    )
    return resumed, jobs, changed


def spec_output(spec: Spec, name: str, run: RunRecord) -> Path:
    """Where the job file puts a job's output in `run` (its placeholders filled in)."""
    return spec.output_dir / job_output(spec.jobs[name], run)


def _still_there(record: JobRecord, expected: Path, spec: Spec) -> bool:
    """An export's output is where the run left it, with the same sha256; an import's rows
    landed and stay landed."""
    if record.direction == "import":
        return True
    output = record.output
    if output is None:
        return False
    if is_url(output.path):  # the job's definition, so its output_dir, is unchanged
        return Storage(spec.storage_options).digest(output.path) == output.sha256
    # A path holding a value from the environment was recorded masked (***); the job's
    # definition, so its output path, is unchanged: the job file says where it is.
    path = expected if redact.MASK in output.path else Path(output.path)
    found = digest(path, pages=path.is_dir())
    return found == output.sha256

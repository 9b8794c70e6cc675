"""`zsync status`: one recorded run and its jobs, read from the state store (never written)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import click

from zsync import output as output_json
from zsync import redact, runs
from zsync.commands import OutputFormat
from zsync.errors import ExitCode, StateError, StateLookupError, UsageError
from zsync.manifest import render
from zsync.sizes import human_bytes
from zsync.state import STATE_DIR_NAME, STATE_DIR_VARIABLE
from zsync.state.lock import alive
from zsync.state.records import JobRecord, LockHolder, RunRecord
from zsync.state.sqlite import SqliteStore
from zsync.state.store import LOCK_TTL, StateStore
from zsync.state.urls import STATE_URL_VARIABLE, check_state_url, described

STORE_FILE = "state.db"
# Runs that stopped before their jobs were done: `zsync run --resume` takes them up again.
RESUMABLE = frozenset({"running", "abandoned", "interrupted"})
COLUMNS = ("JOB", "STATUS", "ROWS", "BYTES", "ZOHO JOBS", "")


def status(
    run: str = "latest",
    *,
    state_dir: str | None = None,
    output: OutputFormat = "text",
    state_url: str | None = None,
) -> int:
    directory = Path(state_dir or STATE_DIR_NAME)
    with reading(directory, state_url) as store:
        if store is None and state_url:
            raise StateLookupError(f"no runs recorded in {described(state_url)} yet")
        if store is None:
            raise StateLookupError(
                f"no state store in {directory} (no {STORE_FILE}): zsync run keeps it "
                "beside the job file; pass --job-file FILE, --state-dir DIR or set "
                f"{STATE_DIR_VARIABLE} (or {STATE_URL_VARIABLE} for a shared one)"
            )
        record = _find_run(store, run, described(state_url) if state_url else directory)
        jobs = store.jobs(record.run_id)
        live = still_running(store, record)
    # What the store holds was masked as it was written (zsync.state.redacted); a URL's
    # userinfo, and whatever this process registered, are masked here too.
    if output == "json":
        output_json.print_document(as_json(record, jobs, live))
        return ExitCode.OK
    click.echo(redact.text(header(record, live)))
    click.echo(redact.text(job_table(jobs)) if jobs else "  (no jobs recorded)")
    if (resume := resume_command(record)) is not None:
        click.echo(redact.text(f"resume it with: {resume}"))
    return ExitCode.OK


@contextmanager
def reading(directory: Path, state_url: str | None = None) -> Iterator[StateStore | None]:
    """The store at `state_url` (PostgreSQL) when given, else the one in `directory`; None
    when there is none (opening would create one).

    Whatever goes wrong reading it is a one-line usage error, never a traceback."""
    path: Path | str = described(state_url) if state_url else directory / STORE_FILE
    try:
        store = _open_to_read(directory, state_url)
    except StateError as exc:  # its message names the file or the database
        raise StateLookupError(str(exc)) from exc
    if store is None:
        yield None
        return
    try:
        yield store
    except StateError as exc:
        raise StateLookupError(str(exc)) from exc
    except (ValueError, KeyError, TypeError) as exc:  # a record this zsync can't decode
        raise StateLookupError(
            f"the state store {path} holds a record zsync can't read: {exc}"
        ) from exc
    finally:
        store.close()


def _open_to_read(directory: Path, state_url: str | None) -> StateStore | None:
    if state_url:
        check_state_url(state_url)
        try:  # the driver only now: most readers never need it
            from zsync.state.postgres import NoStateYet, PostgresStore
        except ImportError as exc:
            raise UsageError(
                f"reading {described(state_url)} needs PostgreSQL's driver: "
                "pip install 'zoho-zsync[postgres]'"
            ) from exc
        try:
            return PostgresStore(state_url, read_only=True)
        except NoStateYet:
            return None
    path = directory / STORE_FILE
    return SqliteStore(path, read_only=True) if path.is_file() else None


def _find_run(store: StateStore, run: str, directory: Path | str) -> RunRecord:
    if run == "latest":
        newest = store.runs(limit=1)
        if not newest:
            raise StateLookupError(f"no runs recorded in {directory}")
        return newest[0]
    record = store.run(run)
    if record is None:
        raise StateLookupError(
            f"no run {run!r} in {directory}; `zsync runs` lists the recorded runs"
        )
    return record


def resume_command(run: RunRecord) -> str | None:
    if run.outcome not in RESUMABLE:
        return None
    return runs.resume_command(run.spec_path, run.run_id)


def header(run: RunRecord, live: Liveness | None = None) -> str:
    started = when(run.started_at)
    if run.outcome == "running" and live is not None and not live.running:
        end = f"never finished: {live.why}"
    elif run.outcome == "running":
        said = [f"{elapsed} so far"] if (elapsed := duration(run.started_at, None)) else []
        said += [live.why] if live is not None and live.why else []
        end = "still running" + (f" ({'; '.join(said)})" if said else "")
    elif run.ended_at is None:
        end = "never finished"
    else:
        end = f"ended {when(run.ended_at)} (took {duration(run.started_at, run.ended_at)})"
    resumed = len(run.resumed_at)
    again = f", resumed {resumed} time{'s' if resumed != 1 else ''}" if resumed else ""
    return f"run {run.run_id} of {run.scope}: {run.outcome}; started {started}{again}, {end}"


class Liveness(NamedTuple):
    """Whether a run recorded as running still runs, and how that is known."""

    running: bool
    why: str


def still_running(store: StateStore, run: RunRecord) -> Liveness | None:
    """None for a run that ended. A run on this host lives while its process does; one on
    another host (a shared store) while it keeps renewing its job file's run lock."""
    if run.outcome != "running":
        return None
    lock = store.run_lock(run.scope)
    held = lock is not None and lock.holder.run_id == run.run_id
    if run.host == socket.gethostname():
        # The lock's holder also knows when its process started: a pid reused since by
        # another process doesn't pass for the run.
        holder = lock.holder if lock is not None and held else _holder_of(run)
        if alive(holder):
            return Liveness(True, "")
        return Liveness(False, f"its process (pid {run.pid} on {run.host}) is gone")
    if lock is None or not held:
        return Liveness(False, f"it no longer holds its job file's run lock (on {run.host})")
    if lock.silence is None:  # a local file: no renewals to tell of
        return Liveness(True, f"on {run.host}, holding its run lock")
    if lock.silence > LOCK_TTL:
        quiet = duration_text(lock.silence)
        return Liveness(False, f"its run lock on {run.host} wasn't renewed for {quiet}")
    return Liveness(True, f"on {run.host}, its run lock renewed {duration_text(lock.silence)} ago")


def _holder_of(run: RunRecord) -> LockHolder:
    return LockHolder(run.scope, run.run_id, run.pid, run.host, run.started_at)


def job_table(jobs: dict[str, JobRecord]) -> str:
    rows = [COLUMNS, *(_job_cells(name, job) for name, job in jobs.items())]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    numeric = {2, 3}  # rows and bytes read best right-aligned
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append(("  " + "  ".join([*cells, row[-1]])).rstrip())
    return "\n".join(lines)


def _job_cells(name: str, job: JobRecord) -> tuple[str, str, str, str, str, str]:
    if job.imported is not None:
        landed = job.imported
        rows = f"{landed.rows_landed:,}/{landed.rows:,}"
        size: int | None = landed.bytes
    elif job.output is not None:
        rows = "-" if job.output.rows is None else f"{job.output.rows:,}"
        size = job.output.bytes
    else:
        rows, size = "-", None
    ids = [remote.id for remote in job.remote_jobs if remote.id is not None]
    return (
        name,
        job.status,
        rows,
        "-" if size is None else human_bytes(size),
        ", ".join(ids) or "none",
        _problem(job),
    )


def _problem(job: JobRecord) -> str:
    said = []
    if job.error is not None:
        code = f" [{job.error.code}]" if job.error.code else ""
        said.append(f"{job.error.error_class} error{code}: {job.error.message}")
    if job.reason:
        said.append(job.reason)
    return " ".join("; ".join(said).split())  # one line, whatever the message held


def when(stamp: str) -> str:
    """A recorded UTC timestamp as people read it; shown as recorded if it doesn't parse."""
    moment = _parse(stamp)
    return stamp if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(started: str, ended: str | None) -> str:
    """How long from `started` to `ended` (to now when None), e.g. 4.2s, 3m 05s, 2h 01m,
    3d 04h; empty when a timestamp doesn't parse."""
    seconds = duration_seconds(started, ended)
    return "" if seconds is None else duration_text(seconds)


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def duration_seconds(started: str, ended: str | None) -> float | None:
    start = _parse(started)
    end = datetime.now(UTC) if ended is None else _parse(ended)
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _parse(stamp: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_json(
    run: RunRecord, jobs: dict[str, JobRecord], live: Liveness | None = None
) -> dict[str, Any]:
    return {
        **render(run, jobs),
        "resume_command": resume_command(run),
        # null for a run that ended
        "still_running": None if live is None else live.running,
    }

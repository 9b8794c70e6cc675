"""Run a plan: every job as a task that waits for its needs and a concurrency slot.

Knows nothing of Zoho's wire format: a job is handed a provider and a slot and either
returns its output or raises a JobError. A failed job's dependents are skipped with the
reason; with fail-fast, no job starts after the first failure (running ones finish).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsync.errors import ConfigError, ExitCode, JobError, JobTimeout, StateError
from zsync.exports import ExportRun
from zsync.fingerprints import describe_target, duration_key, import_target
from zsync.http.rates import Rates, SharedCalls
from zsync.http.session import TokenPool, ZohoSession
from zsync.imports import AnalyticsImportRun, BulkWriteRun, ImportOutcome
from zsync.locations import is_url
from zsync.output_pattern import job_output
from zsync.places import input_place, output_place
from zsync.plan import Plan
from zsync.progress import Progress
from zsync.progress.callback import CallbackLines
from zsync.providers import provider_for
from zsync.providers.analytics_import import AnalyticsImportProvider
from zsync.providers.bulk_write import BulkWriteProvider
from zsync.refusals import first_refusals
from zsync.sinks.atomic import OutsideRoot
from zsync.sinks.remote import Storage, downloaded
from zsync.slots import JobSlot, SharedSlots, lease_ttl
from zsync.spec.model import AnalyticsImport, BulkWriteImport, Export, Job
from zsync.spec.semantics import import_roots_of
from zsync.state.recorder import Recorder
from zsync.state.records import DONE, ErrorRecord, Outcome, OutputRecord, now
from zsync.timings import Timings
from zsync.watermark_book import Watermarks

Reporter = Callable[[str], None]
TASK_BATCH = 50


@dataclass
class RunOptions:
    fail_fast: bool = False
    max_parallel: int | None = None
    reimport: frozenset[str] = frozenset()  # imports to send even if they landed before
    timeout: float | None = None  # seconds for the whole run (zsync run --timeout)
    full_refresh: bool = False  # incremental exports ignore their watermarks


@dataclass
class Scheduler:
    """Runs the plan's jobs whose records (in `recorder`) aren't done yet; a resumed run's
    finished jobs are left as they are, and their dependents go on."""

    plan: Plan
    recorder: Recorder
    scratch: Path
    options: RunOptions = field(default_factory=RunOptions)
    report: Reporter | Progress = print  # a plain callable gets each line as it comes
    stopping: str | None = None  # why no more jobs start
    _done: dict[str, asyncio.Event] = field(default_factory=dict)
    _sessions: dict[str, ZohoSession] = field(default_factory=dict)
    _already_imported: set[str] = field(default_factory=set)  # skipped, yet satisfy needs
    _cancelled_as: tuple[str, str] = ("cancelled", "the run was interrupted")
    rates: Rates | None = None  # Zoho's per-minute limits, for every job (and runner)
    timings: Timings | None = None  # how long jobs of each kind take (made by run)
    _watermarks: Watermarks | None = None  # incremental exports' (made by run)
    progress: Progress = field(init=False)
    shared_slots: SharedSlots | None = None  # leased from the store, with other runners

    def __post_init__(self) -> None:
        report = self.report
        self.progress = report if isinstance(report, Progress) else Progress(CallbackLines(report))
        if self.shared_slots is None:
            holder = f"run {self.recorder.run.run_id}, pid {os.getpid()} on {socket.gethostname()}"
            self.shared_slots = SharedSlots(self.recorder.store, holder, lease_ttl())
        if self.rates is None:
            self.rates = Rates(shared=SharedCalls(self.recorder.store))

    async def run(self) -> None:
        spec = self.plan.spec
        slots = {key: asyncio.Semaphore(slot.cap) for key, slot in self.plan.slots.items()}
        overall = asyncio.Semaphore(self.options.max_parallel or len(self.plan.jobs) or 1)
        self._done = {name: asyncio.Event() for name in self.plan.jobs}
        keys = {name: duration_key(spec, spec.jobs[name]) for name in self.plan.jobs}
        self.timings = Timings(self.recorder, keys)
        self.timings.load()
        self._watermarks = Watermarks.load(self.plan, self.recorder, self.options.full_refresh)
        kept = {}
        for name, record in self.recorder.jobs.items():
            if record.status in DONE and name in self._done:
                self._done[name].set()
                kept[name] = record.status
        self.progress.plan(self.plan.jobs, kept)
        async with (
            _state_errors_unwrapped(),
            self.shared_slots.renewed() if self.shared_slots else contextlib.nullcontext(),
            self._open_sessions(),
            asyncio.TaskGroup() as group,
        ):
            started = 0
            for wave in self.plan.waves:
                for name in wave:
                    if self._done[name].is_set():
                        continue
                    started += 1
                    if started % TASK_BATCH == 0:
                        # Thousands of jobs take their first step over many loop turns,
                        # not in one that would stall every request in flight.
                        await asyncio.sleep(0)
                    job = spec.jobs[name]
                    group.create_task(
                        self._run_job(job, slots[self.plan.jobs[name].slot], overall),
                        name=f"zsync job {name}",
                    )

    def stop(self, reason: str) -> None:
        self.stopping = self.stopping or reason

    def cut_short(self, reason: str) -> None:
        """The run's own deadline passed: jobs still running end `timed_out` when they are
        cancelled (an interrupt leaves them `cancelled`)."""
        self.stop(f"not started: {reason}")
        self._cancelled_as = ("timed_out", reason)

    # -- one job ---------------------------------------------------------------------------

    async def _run_job(self, job: Job, slot: asyncio.Semaphore, overall: asyncio.Semaphore) -> None:
        name = job.name
        try:
            for need in self.plan.jobs[name].needs:
                await self._done[need].wait()
                status = self.recorder.jobs[need].status
                if status != "succeeded" and need not in self._already_imported:
                    self._skip(name, f"needs {need}, which {_past(status)}")
                    return
            async with overall:
                if self.stopping:
                    self._skip(name, self.stopping)
                    return
                await self._execute(job, slot)
        finally:
            self._done[name].set()

    async def _execute(self, job: Job, semaphore: asyncio.Semaphore) -> None:
        name = job.name
        record = self.recorder.jobs[name]
        unfinished = ("queued", None, None, None)
        if (record.status, record.error, record.reason, record.output) != unfinished:
            # A resumed job's earlier end is history now.
            record = self.recorder.update_job(
                name, status="queued", error=None, reason=None, ended_at=None, output=None
            )

        def running() -> None:
            self.recorder.update_job(
                name, status="running", started_at=now(), attempts=record.attempts + 1
            )
            self.progress.started(name, f"started ({record.product} {record.direction})")

        key = self.plan.jobs[name].slot
        slot = JobSlot(semaphore, running, self.shared_slots, key, self.plan.slots[key].cap)
        try:
            async with asyncio.timeout(job.poll.timeout):
                if isinstance(job.action, Export):
                    output: OutputRecord | None = await self._export(job, slot)
                    outcome = None
                else:
                    output, outcome = None, await self._import(job, slot)
        except TimeoutError:
            self._fail(
                name,
                JobTimeout(f"did not finish within poll.timeout ({job.poll.timeout:g}s)"),
                status="timed_out",
            )
        except JobError as exc:
            self._fail(name, exc)
        except asyncio.CancelledError:
            status, reason = self._cancelled_as
            self.recorder.update_job(name, status=status, ended_at=now(), reason=reason)
            self.progress.ended(
                name, status, f"{status.replace('_', ' ')}: {reason}", reason=reason
            )
            raise
        except StateError:
            raise  # nothing can be recorded any more: the run stops
        except Exception as exc:  # a bug: record it, let the other jobs go on
            self._fail(name, JobError(f"internal error: {type(exc).__name__}: {exc}"))
        else:
            if output is not None:
                self.recorder.update_job(name, status="succeeded", ended_at=now(), output=output)
                rows = "" if output.rows is None else f", {output.rows} rows"
                self.progress.ended(
                    name,
                    "succeeded",
                    f"done -> {output.path} ({output.bytes} bytes{rows})",
                    output=output.path,
                    bytes=output.bytes,
                    rows=output.rows,
                )
            elif outcome is not None:
                self._imported(job, outcome)

    async def _export(self, job: Job, slot: JobSlot) -> OutputRecord:
        assert isinstance(job.action, Export)
        session = self._sessions[job.connection].for_job(job.retry, job.results)
        spec = self.plan.spec
        try:
            destination = output_place(spec, job_output(job, self.recorder.run))
        except OutsideRoot as exc:
            raise ConfigError(str(exc)) from None
        assert self._watermarks is not None
        export, definition = self._watermarks.start(job)
        run = ExportRun(
            job=job,
            provider=provider_for(session, export),
            slot=slot,
            recorder=self.recorder,
            destination=destination,
            scratch=self.scratch,
            definition=definition,
            root=self.plan.spec.output_dir,
            progress=self.progress.job(job.name),
            timings=self.timings,
            storage=Storage(spec.storage_options) if spec.output_url else None,
        )
        try:
            output = await run.run()
        except OutsideRoot as exc:
            raise ConfigError(str(exc)) from None
        await self._watermarks.seen(job, output.path)
        return output

    async def _import(self, job: Job, slot: JobSlot) -> ImportOutcome:
        spec = self.plan.spec
        try:
            place = input_place(spec, job.input_file or "")
        except OutsideRoot as exc:
            raise ConfigError(str(exc)) from None
        if isinstance(place, str):  # in object storage: read into scratch, then as any file
            async with downloaded(Storage(spec.storage_options), place, self.scratch) as file:
                return await self._import_file(job, slot, file, source=place)
        # Checked by validation, and again now: a symlink on the way may have changed since.
        real = place.resolve()
        if not any(real.is_relative_to(root) for root in import_roots_of(spec)):
            raise ConfigError(
                f"{place} leads to {real}, outside the directories imports may read "
                "(the job file's, the output directory, defaults.import_roots)"
            )
        return await self._import_file(job, slot, place, source=None)

    async def _import_file(
        self, job: Job, slot: JobSlot, file: Path, *, source: str | None
    ) -> ImportOutcome:
        spec = self.plan.spec
        session = self._sessions[job.connection].for_job(job.retry, job.results)
        action = job.action
        target, mode = import_target(spec, job)

        common: dict[str, Any] = {
            "job": job,
            "slot": slot,
            "recorder": self.recorder,
            "file": file,
            "scratch": self.scratch,
            "progress": self.progress.job(job.name),
            "definition": self.recorder.jobs[job.name].definition_sha256,
            "target": target,
            "target_name": describe_target(spec, job),
            "mode": mode,
            "reimport": job.name in self.options.reimport,
            "timings": self.timings,
            "source": source,
        }
        if isinstance(action, AnalyticsImport):
            provider = AnalyticsImportProvider(session, action)
            return await AnalyticsImportRun(**common, provider=provider).run()
        assert isinstance(action, BulkWriteImport)
        writer = BulkWriteProvider(session, action)
        try:
            results = output_place(spec, f"{job_output(job, self.recorder.run)}.results.csv")
            storage = Storage(spec.storage_options) if spec.output_url else None
            run = BulkWriteRun(
                **common, provider=writer, results=results, root=spec.output_dir, storage=storage
            )
            return await run.run()
        except OutsideRoot as exc:
            raise ConfigError(str(exc)) from None

    def _imported(self, job: Job, outcome: ImportOutcome) -> None:
        if outcome.skipped is not None:
            self._already_imported.add(job.name)
            self._skip(job.name, outcome.skipped)
            return
        record = outcome.record
        refused = outcome.row_errors and not getattr(job.action, "allow_row_errors", False)
        status = "completed_with_errors" if refused else "succeeded"
        self.recorder.update_job(job.name, status=status, ended_at=now())
        counts = ", ".join(
            f"{n} {what}"
            for what, n in (
                ("added", record.added),
                ("updated", record.updated),
                ("skipped", record.skipped),
            )
            if n
        )
        where = f"; results in {record.results.path}" if record.results else ""
        self.progress.ended(
            job.name,
            status,
            f"{status.replace('_', ' ')}: {record.rows_landed} of "
            f"{record.rows} rows imported ({counts or 'nothing to do'}){where}",
            rows=record.rows_landed,
            refused=outcome.row_errors,
        )
        if outcome.row_errors and record.results and not is_url(record.results.path):
            # Why, without opening the file: the first few reasons Zoho gave.
            for refusal in first_refusals(Path(record.results.path)):
                self.progress.job(job.name)(f"refused {refusal}", "warning")

    def _fail(self, name: str, error: JobError, status: str = "failed") -> None:
        self.recorder.update_job(
            name,
            status=status,
            ended_at=now(),
            error=ErrorRecord(error.error_class, error.message, error.code),  # type: ignore[arg-type]
        )
        self.progress.ended(
            name,
            status,
            f"{status.replace('_', ' ')}: {error.message}",
            error=error.message,
            code=error.code,
        )
        if self.options.fail_fast:
            self.stop(f"not started: {name} failed and --fail-fast is set")

    def _skip(self, name: str, reason: str) -> None:
        self.recorder.update_job(name, status="skipped", reason=reason, ended_at=now())
        self.progress.ended(name, "skipped", f"skipped ({reason})", reason=reason)

    @contextlib.asynccontextmanager
    async def _open_sessions(self) -> AsyncIterator[None]:
        spec = self.plan.spec
        # Connections that sign in alike share one access token (and runners, if asked).
        tokens = TokenPool(self.recorder.store)
        async with contextlib.AsyncExitStack() as stack:
            for planned in self.plan.jobs.values():
                if planned.connection not in self._sessions:
                    connection = spec.connections[planned.connection]
                    # Jobs talk through views of it carrying their own retry (for_job).
                    retry = spec.jobs[planned.name].retry
                    self._sessions[planned.connection] = await stack.enter_async_context(
                        ZohoSession(
                            connection,
                            retry,
                            notice=self.progress,
                            tokens=tokens,
                            rates=self.rates,
                        )
                    )
            yield


@contextlib.asynccontextmanager
async def _state_errors_unwrapped() -> AsyncIterator[None]:
    """A state store that can't be written stops the run: raise its error as itself, not
    inside the task group's exception group."""
    try:
        yield
    except BaseExceptionGroup as group:
        found: BaseException | None = group.subgroup(StateError)
        while isinstance(found, BaseExceptionGroup):
            found = found.exceptions[0]
        if found is not None:
            raise found from group
        raise


def outcome_of(recorder: Recorder, interrupted: int | None) -> tuple[Outcome, int]:
    """The run's outcome and exit code, from its jobs' statuses."""
    if interrupted is not None:
        return "interrupted", interrupted
    statuses = {record.status for record in recorder.jobs.values()}
    if "failed" in statuses:
        return "failed", ExitCode.JOB_FAILED
    if "timed_out" in statuses:
        return "timed_out", ExitCode.TIMEOUT
    if "completed_with_errors" in statuses:
        return "partial", ExitCode.PARTIAL
    # Skipped jobs come with a failure, an interruption, or an import that landed before.
    if statuses - {"succeeded", "skipped"}:
        return "failed", ExitCode.JOB_FAILED
    return "succeeded", ExitCode.OK


def _past(status: str) -> str:
    return {
        "failed": "failed",
        "skipped": "was skipped",
        "timed_out": "timed out",
        "cancelled": "was cancelled",
    }.get(status, f"is {status}")

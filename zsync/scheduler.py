"""Run a plan: every job as a task that waits for its needs and a concurrency slot.

Knows nothing of Zoho's wire format: a job is handed a provider and a slot and either
returns its output or raises a JobError. A failed job's dependents are skipped with the
reason; with fail-fast, no job starts after the first failure (running ones finish).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from zsync.errors import ExitCode, JobError, JobTimeout
from zsync.http.session import ZohoSession
from zsync.imports import AnalyticsImportRun, BulkWriteRun, ImportOutcome
from zsync.jobs import ExportRun
from zsync.manifest import ErrorRecord, JobRecord, Ledger, Outcome, OutputRecord, now
from zsync.plan import Plan
from zsync.providers import provider_for
from zsync.providers.analytics_import import AnalyticsImportProvider
from zsync.providers.bulk_write import BulkWriteProvider
from zsync.spec.model import AnalyticsImport, BulkWriteImport, Export, Job

Reporter = Callable[[str], None]


@dataclass
class RunOptions:
    fail_fast: bool = False
    max_parallel: int | None = None


@dataclass
class Scheduler:
    plan: Plan
    ledger: Ledger
    scratch: Path
    options: RunOptions = field(default_factory=RunOptions)
    report: Reporter = print
    stopping: str | None = None  # why no more jobs start
    _done: dict[str, asyncio.Event] = field(default_factory=dict)
    _sessions: dict[str, ZohoSession] = field(default_factory=dict)

    def record_jobs(self) -> None:
        """Put every job of the plan in the manifest as pending, before anything runs."""
        for name, planned in self.plan.jobs.items():
            self.ledger.jobs[name] = JobRecord(
                direction=planned.direction,
                connection=planned.connection,
                product=planned.product,
            )
        self.ledger.write()

    async def run(self) -> None:
        spec = self.plan.spec
        slots = {key: asyncio.Semaphore(slot.cap) for key, slot in self.plan.slots.items()}
        overall = asyncio.Semaphore(self.options.max_parallel or len(self.plan.jobs) or 1)
        self._done = {name: asyncio.Event() for name in self.plan.jobs}
        async with self._open_sessions(), asyncio.TaskGroup() as group:
            for wave in self.plan.waves:
                for name in wave:
                    job = spec.jobs[name]
                    group.create_task(
                        self._run_job(job, slots[self.plan.jobs[name].slot], overall),
                        name=f"zsync job {name}",
                    )

    def stop(self, reason: str) -> None:
        self.stopping = self.stopping or reason

    # -- one job ---------------------------------------------------------------------------

    async def _run_job(self, job: Job, slot: asyncio.Semaphore, overall: asyncio.Semaphore) -> None:
        name = job.name
        try:
            for need in self.plan.jobs[name].needs:
                await self._done[need].wait()
                status = self.ledger.jobs[need].status
                if status != "succeeded":
                    self._skip(name, f"needs {need}, which {_past(status)}")
                    return
            async with overall:
                if self.stopping:
                    self._skip(name, self.stopping)
                    return
                await self._execute(job, slot)
        finally:
            self._done[name].set()

    async def _execute(self, job: Job, slot: asyncio.Semaphore) -> None:
        name = job.name
        record = self.ledger.jobs[name]
        self.ledger.update_job(
            name, status="running", started_at=now(), attempts=record.attempts + 1
        )
        self.report(f"{name}: started ({record.product} {record.direction})")
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
            self.ledger.update_job(
                name, status="cancelled", ended_at=now(), reason="the run was interrupted"
            )
            raise
        except Exception as exc:  # a bug: record it, let the other jobs go on
            self._fail(name, JobError(f"internal error: {type(exc).__name__}: {exc}"))
        else:
            if output is not None:
                self.ledger.update_job(name, status="succeeded", ended_at=now(), output=output)
                rows = "" if output.rows is None else f", {output.rows} rows"
                self.report(f"{name}: done -> {output.path} ({output.bytes} bytes{rows})")
            elif outcome is not None:
                self._imported(job, outcome)

    async def _export(self, job: Job, slot: asyncio.Semaphore) -> OutputRecord:
        assert isinstance(job.action, Export)
        session = self._sessions[job.connection].with_retry(job.retry)
        destination = self.plan.spec.output_dir / (job.output or job.name)
        run = ExportRun(
            job=job,
            provider=provider_for(session, job.action),
            slot=slot,
            ledger=self.ledger,
            destination=destination,
            scratch=self.scratch,
            progress=lambda message: self.report(f"{job.name}: {message}"),
        )
        return await run.run()

    async def _import(self, job: Job, slot: asyncio.Semaphore) -> ImportOutcome:
        spec = self.plan.spec
        session = self._sessions[job.connection].with_retry(job.retry)
        action = job.action
        file = Path(job.input_file or "")
        file = file if file.is_absolute() else spec.output_dir / file

        def progress(message: str) -> None:
            self.report(f"{job.name}: {message}")

        if isinstance(action, AnalyticsImport):
            provider = AnalyticsImportProvider(session, action)
            return await AnalyticsImportRun(
                job, slot, self.ledger, file, self.scratch, progress, provider
            ).run()
        assert isinstance(action, BulkWriteImport)
        results = spec.output_dir / f"{job.output or job.name}.results.csv"
        writer = BulkWriteProvider(session, action)
        return await BulkWriteRun(
            job, slot, self.ledger, file, self.scratch, progress, writer, results
        ).run()

    def _imported(self, job: Job, outcome: ImportOutcome) -> None:
        record = outcome.record
        refused = outcome.row_errors and not getattr(job.action, "allow_row_errors", False)
        status = "completed_with_errors" if refused else "succeeded"
        self.ledger.update_job(job.name, status=status, ended_at=now())
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
        self.report(
            f"{job.name}: {status.replace('_', ' ')}: {record.rows_landed} of "
            f"{record.rows} rows imported ({counts or 'nothing to do'}){where}"
        )

    def _fail(self, name: str, error: JobError, status: str = "failed") -> None:
        self.ledger.update_job(
            name,
            status=status,
            ended_at=now(),
            error=ErrorRecord(error.error_class, error.message, error.code),  # type: ignore[arg-type]
        )
        self.report(f"{name}: {status.replace('_', ' ')}: {error.message}")
        if self.options.fail_fast:
            self.stop(f"not started: {name} failed and --fail-fast is set")

    def _skip(self, name: str, reason: str) -> None:
        self.ledger.update_job(name, status="skipped", reason=reason, ended_at=now())
        self.report(f"{name}: skipped ({reason})")

    @contextlib.asynccontextmanager
    async def _open_sessions(self) -> AsyncIterator[None]:
        spec = self.plan.spec
        async with contextlib.AsyncExitStack() as stack:
            for planned in self.plan.jobs.values():
                if planned.connection not in self._sessions:
                    connection = spec.connections[planned.connection]
                    # Jobs talk through views of it carrying their own retry (with_retry).
                    retry = spec.jobs[planned.name].retry
                    self._sessions[planned.connection] = await stack.enter_async_context(
                        ZohoSession(connection, retry)
                    )
            yield


def outcome_of(ledger: Ledger, interrupted: int | None) -> tuple[Outcome, int]:
    """The run's outcome and exit code, from its jobs' statuses."""
    if interrupted is not None:
        return "interrupted", interrupted
    statuses = {record.status for record in ledger.jobs.values()}
    if "failed" in statuses:
        return "failed", ExitCode.JOB_FAILED
    if "timed_out" in statuses:
        return "timed_out", ExitCode.TIMEOUT
    if "completed_with_errors" in statuses:
        return "partial", ExitCode.PARTIAL
    if statuses - {"succeeded"}:
        return "failed", ExitCode.JOB_FAILED
    return "succeeded", ExitCode.OK


def _past(status: str) -> str:
    return {
        "failed": "failed",
        "skipped": "was skipped",
        "timed_out": "timed out",
        "cancelled": "was cancelled",
    }.get(status, f"is {status}")

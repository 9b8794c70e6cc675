"""Run a plan to its end: the scheduler, signals, the manifest's final word, the exit code."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
from collections.abc import Callable

from zsync.errors import ExitCode
from zsync.manifest import Ledger
from zsync.plan import Plan
from zsync.scheduler import RunOptions, Scheduler, outcome_of

SIGNAL_EXIT = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED}


async def run_plan(
    plan: Plan,
    ledger: Ledger,
    options: RunOptions | None = None,
    report: Callable[[str], None] = lambda message: None,
    *,
    handle_signals: bool = False,
) -> int:
    """Run every job of `plan`, recording it all in `ledger`; returns the exit code.

    With `handle_signals`, SIGINT/SIGTERM stop new jobs, cancel running ones (their Zoho job
    ids are already in the manifest) and end the run with 130/143.
    """
    scratch = ledger.path.parent / "tmp"
    scheduler = Scheduler(plan, ledger, scratch, options or RunOptions(), report)
    scheduler.record_jobs()
    interrupted: int | None = None
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def on_signal(signum: signal.Signals) -> None:
        nonlocal interrupted
        if interrupted is None:
            interrupted = SIGNAL_EXIT[signum]
            report(f"{signum.name}: stopping; in-flight Zoho jobs are in the manifest")
            scheduler.stop(f"not started: the run was interrupted ({signum.name})")
            if task is not None:
                task.cancel()

    if handle_signals:
        for signum in SIGNAL_EXIT:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, on_signal, signum)
    try:
        await scheduler.run()
    except asyncio.CancelledError:
        if interrupted is None:
            raise
        for name, record in ledger.jobs.items():
            if record.status == "pending":
                ledger.update_job(name, status="skipped", reason=scheduler.stopping)
    finally:
        if handle_signals:
            for signum in SIGNAL_EXIT:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)
        shutil.rmtree(scratch, ignore_errors=True)
    outcome, code = outcome_of(ledger, interrupted)
    ledger.finish(outcome, int(code))
    report(f"run {outcome}: " + _counts(ledger))
    return int(code)


def _counts(ledger: Ledger) -> str:
    statuses: dict[str, int] = {}
    for record in ledger.jobs.values():
        statuses[record.status] = statuses.get(record.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())) or "no jobs"

"""Run a plan to its end: the scheduler, signals, the manifest, the run's final word.

The recorder holds the run's jobs; the manifest is rendered from the store while the run goes
on and once more at its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from zsync.errors import ExitCode, StateError
from zsync.interrupts import EXIT_CODES, RunInterrupts
from zsync.manifest import rendered_while_running, write_manifest
from zsync.plan import Plan
from zsync.progress import Level, Progress
from zsync.runs import resume_command
from zsync.scheduler import RunOptions, Scheduler, outcome_of
from zsync.state.recorder import Recorder
from zsync.state.records import now
from zsync.watermark_book import advance

SWITCH_INTERVAL = 0.0002  # seconds


async def run_plan(
    plan: Plan,
    recorder: Recorder,
    state_dir: Path,
    options: RunOptions | None = None,
    report: Callable[[str], None] | Progress = lambda message: None,
    *,
    interrupts: RunInterrupts | None = None,
) -> int:
    """Run every job of `plan` not done yet, recording it all through `recorder` (started);
    returns the exit code.

    With `interrupts`, SIGINT/SIGTERM (also one that came while the run was being set up)
    stop new jobs, cancel running ones (their Zoho job ids are already recorded) and end the
    run with 130/143.
    """
    run_id = recorder.run.run_id
    scratch = state_dir / "runs" / run_id / "tmp"
    options = options or RunOptions()
    scheduler = Scheduler(plan, recorder, scratch, options, report)
    progress = scheduler.progress
    interrupted: int | None = None
    task = asyncio.current_task()

    def on_signal(signum: signal.Signals) -> None:
        nonlocal interrupted
        if interrupted is None:
            interrupted = EXIT_CODES[signum]
            progress.warn(f"{signum.name}: stopping; in-flight Zoho jobs are recorded for --resume")
            scheduler.stop(f"not started: the run was interrupted ({signum.name})")
            if task is not None:
                task.cancel()

    def render() -> None:
        try:
            write_manifest(recorder.store, state_dir, run_id)
        except OSError as exc:
            raise StateError(f"can't write the manifest of run {run_id}: {exc}") from exc

    timed_out = False
    lost_lock = False

    async def on_lock_lost(lost: asyncio.Event) -> None:
        nonlocal lost_lock
        await lost.wait()
        if interrupted is None and not timed_out:
            lost_lock = True
            progress.emit(
                "run.lock_lost",
                "another run took this run's lock: stopping, so the two never overlap; "
                "in-flight Zoho jobs are recorded for --resume",
                level="error",
            )
            scheduler.stop("not started: another run took this run's lock")
            if task is not None:
                task.cancel()

    def on_deadline() -> None:
        nonlocal timed_out
        if interrupted is None and not timed_out:
            timed_out = True
            limit = f"the run reached its --timeout ({options.timeout:g}s)"
            progress.warn(f"{limit}: stopping; in-flight Zoho jobs are recorded for --resume")
            scheduler.cut_short(limit)
            if task is not None:
                task.cancel()

    await recorder.durable()
    await asyncio.to_thread(render)
    deadline = None
    if options.timeout is not None:
        deadline = asyncio.get_running_loop().call_later(options.timeout, on_deadline)
    watching = None
    if recorder.lock_lost is not None:
        watching = asyncio.create_task(on_lock_lost(recorder.lock_lost), name="zsync lock watch")
    try:
        # A signal that came already cancels this task here: the first await below raises.
        with interrupts.handled_by(on_signal) if interrupts else contextlib.nullcontext():
            async with rendered_while_running(render, lambda: recorder.changes):
                with tuned_for_a_run():
                    await scheduler.run()
    except asyncio.CancelledError:
        if interrupted is None and not timed_out and not lost_lock:
            raise
        for name, record in recorder.jobs.items():
            if record.status == "queued":
                recorder.update_job(name, status="skipped", reason=scheduler.stopping)
                progress.board.end(name, "skipped")
    finally:
        if deadline is not None:
            deadline.cancel()
        if watching is not None:
            watching.cancel()
        shutil.rmtree(scratch, ignore_errors=True)
    outcome, code = outcome_of(recorder, interrupted)
    if lost_lock:
        outcome, code = "interrupted", ExitCode.LOCKED
    if timed_out and code in (ExitCode.OK, ExitCode.PARTIAL):
        outcome, code = "timed_out", ExitCode.TIMEOUT  # jobs were left undone
    advance(recorder, outcome)  # in the same batch as the run's end, as a rule
    recorder.put_run(outcome=outcome, exit_code=int(code), ended_at=now())
    await recorder.durable()
    await asyncio.to_thread(render)
    level: Level = "info" if outcome == "succeeded" else "warning"
    progress.emit("run.ended", f"run {outcome}: " + _counts(recorder), level=level, outcome=outcome)
    if hint := _next_step(outcome, plan, run_id):
        progress.emit("run.next", hint, level=level)
    return int(code)


def _next_step(outcome: str, plan: Plan, run_id: str) -> str | None:
    """What a person does next, when there is something to do."""
    if outcome in ("failed", "timed_out", "interrupted"):
        spec = plan.spec.path
        try:
            shown = str(spec.relative_to(Path.cwd()))
        except ValueError:
            shown = str(spec)
        return (
            f"next: fix what failed, then `{resume_command(shown, run_id)}` goes on from "
            "here (finished jobs are kept); `zsync status` shows each job"
        )
    if outcome == "partial":
        return "next: the rows Zoho refused, and why, are in the results files named above"
    return None


@contextlib.contextmanager
def tuned_for_a_run() -> Iterator[None]:
    """The interpreter set for a run's event loop, and set back after it."""
    # What exists now (the plan, the job records) lives as long as the run: keep the garbage
    # collector from scanning it again and again, which stalls the loop in runs of thousands.
    gc.freeze()
    # The loop gives up the GIL on every socket call; with the state writer and file threads
    # busy, taking it back waits out their whole switch interval (5 ms by default). A short
    # interval keeps the loop, which does most of the work, from queueing behind them.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        yield
    finally:
        sys.setswitchinterval(switch_interval)
        gc.unfreeze()


def _counts(recorder: Recorder) -> str:
    statuses: dict[str, int] = {}
    for record in recorder.jobs.values():
        statuses[record.status] = statuses.get(record.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())) or "no jobs"

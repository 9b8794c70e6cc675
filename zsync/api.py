"""zsync from Python, for orchestrators: an Airflow task or a Dagster op runs a job file
without a subprocess, and gets the run's record back.

    import zsync

    result = zsync.run("jobs.yaml", select=["crm_*"])
    result.outcome                 # "succeeded"
    result.job("crm_contacts")     # the manifest's record of one job

A run that doesn't succeed raises RunFailed (with the result attached) unless check=False; an
invalid job file raises SpecError (its `diagnostics` say where); another run holding the
lock raises LockedError. Progress goes to the `zsync` logger (zsync.progress.logged), which
orchestrators collect; nothing is printed. Secrets never reach the logs or the result.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsync import redact
from zsync.errors import SpecError, ZsyncError
from zsync.manifest import manifest_path
from zsync.plan import build_plan
from zsync.progress import HEARTBEAT_EVERY, Progress
from zsync.progress.logged import LOGGER, LoggedLines
from zsync.runs import state_dir_for
from zsync.scheduler import RunOptions
from zsync.spec import validate_spec
from zsync.state.urls import state_url_from


@dataclass(frozen=True)
class RunResult:
    """A finished run, as its manifest records it."""

    run_id: str
    outcome: str  # succeeded, failed, partial, timed_out, interrupted
    exit_code: int  # what `zsync run` would exit with
    manifest: dict[str, Any]
    manifest_path: Path

    @property
    def succeeded(self) -> bool:
        return self.outcome == "succeeded"

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        jobs: dict[str, dict[str, Any]] = self.manifest["jobs"]
        return jobs

    def job(self, name: str) -> dict[str, Any]:
        return self.jobs[name]


class RunFailed(ZsyncError):
    """The run ended, but not every job succeeded (`result` says which and why)."""

    kind = "run_failed"

    def __init__(self, result: RunResult) -> None:
        failed = [name for name, job in result.jobs.items() if job["status"] != "succeeded"]
        super().__init__(
            f"run {result.run_id} {result.outcome}: "
            + (", ".join(failed[:5]) + (" and more" if len(failed) > 5 else "") or "no job")
            + f" did not succeed; manifest: {result.manifest_path}"
        )
        self.result = result
        self.exit_code = result.exit_code  # type: ignore[assignment]


def run(
    path: str | os.PathLike[str],
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    state: str | os.PathLike[str] | None = None,
    resume: str | None = None,
    fail_fast: bool = False,
    max_parallel: int | None = None,
    timeout: float | None = None,
    reimport: Sequence[str] = (),
    wait_lock: float | None = None,
    emulator: bool = False,
    check: bool = True,
    logger: logging.Logger = LOGGER,
) -> RunResult:
    """Run the job file at `path` as `zsync run` does; see `run_async` for the arguments.
    Not from inside a running event loop (use `await run_async(...)` there)."""
    return asyncio.run(
        run_async(
            path,
            select=select,
            exclude=exclude,
            state=state,
            resume=resume,
            fail_fast=fail_fast,
            max_parallel=max_parallel,
            timeout=timeout,
            reimport=reimport,
            wait_lock=wait_lock,
            emulator=emulator,
            check=check,
            logger=logger,
        )
    )


async def run_async(
    path: str | os.PathLike[str],
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    state: str | os.PathLike[str] | None = None,
    resume: str | None = None,
    fail_fast: bool = False,
    max_parallel: int | None = None,
    timeout: float | None = None,
    reimport: Sequence[str] = (),
    wait_lock: float | None = None,
    emulator: bool = False,
    check: bool = True,
    logger: logging.Logger = LOGGER,
) -> RunResult:
    """Run the job file at `path`.

    `select`/`exclude`: job names, globs or tag:NAME, as on the command line. `state`: the
    state directory (default: ZSYNC_STATE_DIR, else .zsync/ beside the job file), or a
    postgresql:// URL of a shared store (default: ZSYNC_STATE_URL, else the job file's
    defaults.state; manifests then go to the default state directory).
    `resume`: a run id or "latest". `timeout`, `wait_lock`: seconds. `emulator`: run against
    the embedded emulator (demo data; for trying a job file). `check`: raise RunFailed when
    the run doesn't succeed.
    """
    from zsync.commands.run import _run, check_run_options, moot_under_emulator
    from zsync.emulator_options import EmulatorSettings
    from zsync.interrupts import RunInterrupts

    with redact.scope():
        result = validate_spec(str(path), redact.watching(os.environ), for_run=not emulator)
        for diagnostic in result.diagnostics:
            if diagnostic.severity == "warning" and not (
                emulator and moot_under_emulator(diagnostic)
            ):
                logger.warning("%s", redact.text(diagnostic.render()))
        if result.spec is None:
            raise SpecError(result.diagnostics)
        spec = result.spec
        redact.add_auth(spec)
        plan = build_plan(spec, select, exclude)
        check_run_options(plan, resume=resume, emulator=emulator, reimport=reimport)
        given = os.fspath(state) if state is not None else None
        state_url = state_url_from(spec.state_url)
        if given is not None and given.startswith(("postgresql://", "postgres://")):
            state_url, given = given, None
        states = state_dir_for(spec, given or os.environ.get("ZSYNC_STATE_DIR"))
        options = RunOptions(
            fail_fast=fail_fast,
            max_parallel=max_parallel,
            reimport=frozenset(reimport),
            timeout=timeout,
        )
        progress = Progress(LoggedLines(logger), heartbeat=HEARTBEAT_EVERY)
        interrupts = RunInterrupts()
        code, run_id = await _run(
            spec,
            select,
            exclude,
            states,
            options,
            EmulatorSettings() if emulator else None,
            resume,
            wait_lock,
            progress,
            interrupts,
            state_url,
        )
        if run_id is None:
            raise ZsyncError("the run was interrupted before it was recorded")
        where = manifest_path(states, run_id)
        manifest = redact.scrub(json.loads(where.read_text(encoding="utf-8")))
    done = RunResult(run_id, manifest["outcome"], int(code), manifest, where)
    if check and not done.succeeded:
        raise RunFailed(done)
    return done

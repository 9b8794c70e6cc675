"""`zsync run`: run a job file's jobs and write the run manifest, against Zoho or the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import re
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import click

from zsync import output as output_json
from zsync import redact
from zsync.commands import OutputFormat
from zsync.emulator_options import EmulatorSettings, emulator_config
from zsync.errors import ExitCode, SpecError, UsageError
from zsync.http.limits import limits_for
from zsync.interrupts import RunInterrupts
from zsync.manifest import manifest_path
from zsync.places import check_output_storage
from zsync.plan import Plan, build_plan
from zsync.products import CALL_KINDS, tightest
from zsync.progress import HEARTBEAT_EVERY, LogFormat, Progress, display_for
from zsync.progress.jsonlines import log_line
from zsync.reports.github import print_annotations
from zsync.runner import run_plan
from zsync.runs import started_run, state_dir_for
from zsync.scheduler import RunOptions
from zsync.spec import Spec, validate_spec
from zsync.spec.diagnostics import Diagnostic
from zsync.spec.model import Auth, Connection
from zsync.state.urls import state_url_from


def run(
    path: str,
    *,
    emulator: bool = False,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    fail_fast: bool = False,
    max_parallel: int | None = None,
    state_dir: str | None = None,
    output: OutputFormat = "text",
    resume: str | None = None,
    wait_lock: float | None = None,
    reimport: Sequence[str] = (),
    full_refresh: bool = False,
    timeout: float | None = None,
    emulator_settings: EmulatorSettings | None = None,
    junit: str | None = None,
    verbosity: int = 0,
    log_format: LogFormat = "text",
    heartbeat: float = HEARTBEAT_EVERY,
) -> int:
    """`verbosity`: -1 problems only (-q), 0 the default, 1 every status check (-v)."""
    settings = emulator_settings or EmulatorSettings()
    if settings.given and not emulator:
        # Said before the job file is read: it is the command line that is wrong.
        one = len(settings.given) == 1
        raise UsageError(
            f"{', '.join(settings.given)} {'needs' if one else 'need'} --emulator "
            f"({'it shapes' if one else 'they shape'} the embedded emulator's data and faults; "
            "a run against Zoho has neither)"
        )
    result = validate_spec(path, redact.watching(os.environ), for_run=not emulator)
    diagnostics = result.diagnostics
    if emulator:
        diagnostics = [d for d in diagnostics if not moot_under_emulator(d)]
    for diagnostic in diagnostics:
        if log_format == "json":
            where = {k: v for k, v in diagnostic.as_json().items() if k != "message"}
            log_line("job_file.problem", diagnostic.render(), diagnostic.severity, **where)
        else:
            click.echo(redact.text(diagnostic.render()), err=True)
    print_annotations(diagnostics, err=output == "json")
    if result.spec is None:
        raise SpecError(result.diagnostics, shown=True)
    spec = result.spec
    redact.add_auth(spec)
    plan = build_plan(spec, select, exclude)  # a bad --select fails here, before anything starts
    check_run_options(plan, resume=resume, emulator=emulator, reimport=reimport)
    states = state_dir_for(spec, state_dir)
    state_url = state_url_from(spec.state_url)
    options = RunOptions(
        fail_fast=fail_fast,
        max_parallel=max_parallel,
        reimport=frozenset(reimport),
        timeout=timeout,
        full_refresh=full_refresh,
    )
    report = Progress(
        display_for(log_format, quiet=verbosity < 0),
        level="warning" if verbosity < 0 else "debug" if verbosity > 0 else "info",
        heartbeat=heartbeat,
    )
    interrupts = RunInterrupts()
    code, run_id = asyncio.run(
        _run(
            spec,
            select,
            exclude,
            states,
            options,
            settings if emulator else None,
            resume,
            wait_lock,
            report,
            interrupts,
            state_url,
        )
    )
    if run_id is None:  # interrupted before the run was recorded
        click.echo("zsync: interrupted", err=True)
        return code
    path_of_manifest = manifest_path(states, run_id)
    manifest_text = path_of_manifest.read_text(encoding="utf-8")
    if output == "json":
        output_json.print_json_text(manifest_text)
    reported = _write_reports(json.loads(manifest_text), path_of_manifest, junit)
    if log_format == "json":  # stderr stays one JSON object per line
        report.emit("run.manifest", f"manifest: {path_of_manifest}", path=str(path_of_manifest))
        report.flush()
    elif verbosity >= 0 or code != ExitCode.OK:
        click.echo(redact.text(f"manifest: {path_of_manifest}"), err=output == "json")
    # A signal after the run's own handler was done still says the process was stopped.
    code = interrupts.exit_code or code
    # A run that passed but whose report is missing must not look green to CI.
    return code if reported or code != ExitCode.OK else ExitCode.JOB_FAILED


def check_run_options(
    plan: Plan, *, resume: str | None, emulator: bool, reimport: Sequence[str]
) -> None:
    """What the command line asks that this plan can't do, before anything starts."""
    if resume and emulator:
        raise UsageError(
            "--resume can't be used with --emulator: the embedded emulator starts empty, so "
            "nothing the earlier run started is there"
        )
    unknown = [name for name in reimport if name not in plan.jobs]
    if unknown:
        raise UsageError(f"--reimport {unknown[0]}: no such job in this run")
    not_imports = [name for name in reimport if plan.jobs[name].direction != "import"]
    if not_imports:
        raise UsageError(f"--reimport {not_imports[0]}: that job is an export, not an import")


def _write_reports(manifest: dict[str, Any], manifest_file: Path, junit: str | None) -> bool:
    """The run's CI reports, from its manifest (whatever it ended as: they matter most when
    it failed); False when one couldn't be written (said on stderr)."""
    from zsync.reports import github
    from zsync.reports import junit as junit_report

    manifest = redact.scrub(manifest)
    written = True
    if junit is not None:
        try:
            junit_report.write(Path(junit), manifest, manifest_file)
        except OSError as exc:
            click.echo(redact.text(f"zsync: error: can't write the JUnit report: {exc}"), err=True)
            written = False
    summary = github.summary_file()
    if summary is not None:
        try:
            github.append_summary(summary, github.step_summary(manifest, manifest_file))
        except OSError as exc:
            message = f"zsync: error: can't append to GITHUB_STEP_SUMMARY: {exc}"
            click.echo(redact.text(message), err=True)
            written = False
    return written


async def _run(
    spec: Spec,
    select: Sequence[str],
    exclude: Sequence[str],
    state_dir: Path,
    options: RunOptions,
    emulator: EmulatorSettings | None,
    resume: str | None,
    wait_lock: float | None,
    report: Progress,
    interrupts: RunInterrupts,
    state_url: str | None,
) -> tuple[int, str | None]:
    """The exit code and the run's id; no id when a signal stopped it before it was
    recorded. `emulator`: run against the embedded emulator, made to these settings."""
    with interrupts.installed():
        try:
            async with (
                report.written(),
                _maybe_emulator(spec, emulator, report) as (run_spec, base_url),
            ):
                redact.add_auth(run_spec)
                plan = build_plan(run_spec, select, exclude)
                await check_output_storage(run_spec, plan.jobs)
                async with started_run(
                    plan,
                    state_dir,
                    resume=resume,
                    wait_lock=wait_lock,
                    emulator=base_url,
                    report=report,
                    interrupts=interrupts,
                    state_url=state_url,
                ) as recorder:
                    code = await run_plan(
                        plan, recorder, state_dir, options, report, interrupts=interrupts
                    )
                    return code, recorder.run.run_id
        except asyncio.CancelledError:
            if interrupts.exit_code is None:
                raise
            return interrupts.exit_code, None


@contextlib.asynccontextmanager
async def _maybe_emulator(
    spec: Spec, emulator: EmulatorSettings | None, report: Callable[[str], None]
) -> AsyncIterator[tuple[Spec, str | None]]:
    if emulator is None:
        yield spec, None
        return
    from zsync.emulator import running_emulator

    config = emulator_config(emulator, time_scale=EMULATOR_TIME_SCALE)
    async with running_emulator(config) as running:
        report(f"embedded emulator at {running.base_url} (no request leaves this machine)")
        if emulator.given:
            report(f"emulated data and faults: {emulator.describe()}")
        demo = running.emulator.demo(running.base_url)
        yield point_at_emulator(spec, demo, running.base_url), running.base_url


# Emulated job durations are minutes of Zoho time; at this scale they take well under a second.
EMULATOR_TIME_SCALE = 600.0


# What --emulator puts in place of each connection's own: an unset variable there is moot.
_REPLACED = re.compile(r"connections\.[^.]+\.(auth(\..*)?|org_id|workspace|owner|app|base_url)")


def moot_under_emulator(diagnostic: Diagnostic) -> bool:
    return (
        diagnostic.severity == "warning"
        and diagnostic.message.startswith("environment variable ")
        and _REPLACED.fullmatch(diagnostic.path) is not None
    )


def point_at_emulator(spec: Spec, demo: dict[str, str], base_url: str) -> Spec:
    """The spec with every connection aimed at the emulator and its demo organisation."""
    auth = Auth(demo["client_id"], demo["client_secret"], demo["refresh_token"])
    org_ids = {
        "crm": demo["crm_org_id"],
        "bigin": demo["bigin_org_id"],
        "analytics": demo["analytics_org_id"],
        "creator": None,
    }
    connections = {}
    for name, connection in spec.connections.items():
        changes: dict[str, Any] = {
            "base_url": base_url,
            "auth": auth,
            "org_id": org_ids[connection.product],
        }
        if connection.product == "analytics":
            changes["workspace"] = demo["analytics_workspace_id"]
        if connection.product == "creator":
            changes.update(owner=demo["creator_owner"], app=demo["creator_app"])
        changes["limits"] = dataclasses.replace(
            connection.limits, requests=_in_emulated_time(connection)
        )
        connections[name] = dataclasses.replace(connection, **changes)
    return dataclasses.replace(spec, connections=connections)


def _in_emulated_time(connection: Connection) -> tuple[tuple[str, int, float], ...]:
    """The connection's per-minute limits as the embedded emulator keeps them: its minute
    lasts 60 / EMULATOR_TIME_SCALE real seconds, and zsync waits no longer than it does."""
    scaled = []
    for kind in CALL_KINDS:
        limits = limits_for(connection, kind)
        if limits:
            limit = tightest(limits)
            scaled.append((kind, limit.calls, limit.per / EMULATOR_TIME_SCALE))
    return tuple(scaled)

"""`zsync plan`: what a run would do, without a network call."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from zsync import output as output_json
from zsync import redact
from zsync.commands import OutputFormat
from zsync.durations import format_duration
from zsync.errors import ExitCode, StateError, UsageError
from zsync.http.hosts import hosts_for
from zsync.locations import is_url
from zsync.plan import Plan, build_plan
from zsync.reports.github import print_annotations
from zsync.spec import Spec, validate_spec
from zsync.state import STATE_DIR_NAME, STATE_DIR_VARIABLE
from zsync.state.sqlite import SqliteStore
from zsync.state.store import StateStore
from zsync.state.urls import check_state_url, state_url_from
from zsync.watermarks import incremental_of, moved_back, watermark_key


def plan(
    path: str,
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    output: OutputFormat = "text",
) -> int:
    # Values from the environment are registered as they are read: the plan shows none.
    result = validate_spec(path, redact.watching(os.environ))
    for diagnostic in result.diagnostics:
        click.echo(redact.text(diagnostic.render()), err=True)
    print_annotations(result.diagnostics, err=output == "json")
    if result.spec is None:
        if output == "json":
            output_json.print_document(output_json.for_invalid_job_file(result.diagnostics))
        click.echo(f"{path}: invalid; run `zsync validate {path}` for details", err=True)
        return ExitCode.INVALID
    redact.add_auth(result.spec)
    the_plan = build_plan(result.spec, select, exclude)
    marks = watermarks(the_plan)
    if output == "json":
        output_json.print_document(as_json(the_plan, marks))
    else:
        click.echo(redact.text(render(the_plan, path, marks)))
    return ExitCode.OK


Watermarks = dict[str, dict[str, Any]]  # job name -> its incremental watermark, as shown


def watermarks(plan: Plan) -> Watermarks:
    """Each incremental job's stored watermark and the bound the next run would send, read
    from the state directory a plain `zsync run` of the file would use (read only; none
    when there is no store yet)."""
    spec = plan.spec
    keys = {
        name: watermark_key(spec, spec.jobs[name], str(spec.path.resolve()))
        for name in plan.jobs
        if incremental_of(spec.jobs[name]) is not None
    }
    if not keys:
        return {}
    stored: dict[str, str] = {}
    try:
        store = _store_to_read(spec)
        if store is not None:
            try:
                stored = store.watermarks(list(keys.values()))
            finally:
                store.close()
    except (StateError, UsageError):
        stored = {}  # a plan is still worth showing without them
    shown: Watermarks = {}
    for name, key in keys.items():
        incremental = incremental_of(spec.jobs[name])
        assert incremental is not None
        watermark = stored.get(key)
        shown[name] = {
            "field": incremental.field,
            "overlap_seconds": incremental.overlap,
            "watermark": watermark,
            "since": None if watermark is None else moved_back(watermark, incremental.overlap),
        }
    return shown


def _store_to_read(spec: Spec) -> StateStore | None:
    """The store a plain `zsync run` of the file would use, opened read only: the shared
    one (ZSYNC_STATE_URL, defaults.state), else the state directory's file if there is one."""
    url = state_url_from(spec.state_url)
    if url is not None:
        check_state_url(url)
        try:
            from zsync.state.postgres import PostgresStore  # only where a URL says so
        except ImportError:
            return None
        return PostgresStore(url, read_only=True)
    database = state_file(spec)
    return SqliteStore(database, read_only=True) if database.exists() else None


def state_file(spec: Spec) -> Path:
    """Where `zsync run` keeps this job file's store by default: zsync.runs' state_dir_for
    and STATE_FILE, which this command can't import (they bring asyncio, and `zsync plan`
    starts without it)."""
    given = os.environ.get(STATE_DIR_VARIABLE)
    return (Path(given) if given else spec.path.parent / STATE_DIR_NAME) / "state.db"


def as_json(plan: Plan, marks: Watermarks | None = None) -> dict[str, Any]:
    spec = plan.spec
    jobs: dict[str, Any] = {}
    for name, job in plan.jobs.items():
        model = spec.jobs[name]
        jobs[name] = {
            "wave": job.wave,
            "direction": job.direction,
            "connection": job.connection,
            "product": job.product,
            "slot": job.slot,
            "needs": list(job.needs),
            "needs_outside_run": list(job.outside_needs),
            "output": _output_path(plan, model.output) if model.output else None,
            "input": _output_path(plan, model.input_file) if model.input_file else None,
            "tags": list(model.tags),
            "min_api_calls": job.min_calls,
        }
        if marks and name in marks:
            jobs[name]["incremental"] = marks[name]
    return {
        "spec": str(spec.path),
        "output_dir": spec.output_url or str(spec.output_dir),
        "connections": {name: _hosts(plan, name) for name in _connections_used(plan)},
        "waves": plan.waves,
        "jobs": jobs,
        "slots": {
            key: {
                "product": s.product,
                "direction": s.direction,
                "cap": s.cap,
                "zoho_cap": s.zoho_cap,
                "documented": s.documented,
                "note": s.note,
                "jobs": list(s.jobs),
            }
            for key, s in plan.slots.items()
        },
        "left_out": plan.left_out,
        "limits": plan.notes(),
        "request_limits": [
            {
                "organisation": use.organisation,
                "kind": use.kind,
                "calls": use.limit.calls,
                "per_seconds": use.limit.per,
                "scope": use.limit.scope,
                "source": use.limit.source,
                "min_requests": use.requests,
                "min_seconds_imposed": use.imposed,
            }
            for use in plan.rate_uses()
        ],
        "min_api_calls": plan.min_calls,
        "min_api_credits": plan.credits(),
    }


def render(plan: Plan, path: str, marks: Watermarks | None = None) -> str:
    lines: list[str] = []
    n_jobs, n_waves = len(plan.jobs), len(plan.waves)
    lines.append(
        f"Plan for {path}: {n_jobs} job{'s' if n_jobs != 1 else ''} in {n_waves} "
        f"wave{'s' if n_waves != 1 else ''} (nothing was sent to Zoho)"
    )
    width = max((len(name) for name in plan.jobs), default=0)
    for index, wave in enumerate(plan.waves, start=1):
        lines.append("")
        lines.append(f"Wave {index}")
        for name in wave:
            lines.append("  " + _job_line(plan, name, width))
    if marks:
        lines.append("")
        lines.append(
            "Incremental exports (watermarks from the state directory; --full-refresh ignores them)"
        )
        for name, mark in marks.items():
            if mark["watermark"] is None:
                lines.append(f"  {name}: no watermark yet: every row is exported")
            else:
                lines.append(
                    f"  {name}: {mark['field']} >= {mark['since']} (watermark "
                    f"{mark['watermark']} minus {format_duration(mark['overlap_seconds'])} overlap)"
                )
    if plan.left_out:
        lines.append("")
        lines.append("Not in this run")
        for name, why in plan.left_out.items():
            lines.append(f"  {name}: {why}")
    lines.append("")
    lines.append("Hosts each connection talks to (for firewall allow-lists)")
    for name in _connections_used(plan):
        hosts = _hosts(plan, name)
        where = f"dc {hosts['dc']}" if hosts["dc"] else "base_url"
        lines.append(f"  {name} ({where}): {', '.join(hosts['hosts'])}")
    lines.append("")
    lines.append("Concurrency slots (jobs in progress at once per organisation)")
    for slot in plan.slots.values():
        if slot.cap < slot.zoho_cap:
            origin = f"lowered by limits: from {slot.zoho_cap}"
        elif slot.cap > slot.zoho_cap:
            origin = f"raised by limits: from {slot.zoho_cap}"
        else:
            origin = "documented by Zoho" if slot.documented else "zsync default"
        lines.append(
            f"  {slot.key}: {slot.cap} at once ({origin}; {slot.note}) - {', '.join(slot.jobs)}"
        )
    if notes := plan.notes():
        lines.append("")
        lines.append("Limits that apply")
        lines.extend(f"  {note}" for note in notes)
    if uses := plan.rate_uses():
        lines.append("")
        lines.append("Per-minute request limits (zsync waits for room rather than earning a 429)")
        for use in uses:
            limit = use.limit
            lines.append(
                f"  {use.organisation} {use.kind}: {limit.calls} per "
                f"{format_duration(limit.per)} per {limit.scope} ({limit.source}); at least "
                f"{use.requests} in this run: {_imposed(use.imposed)}"
            )
    calls = plan.min_calls
    total = sum(calls.values())
    breakdown = ", ".join(f"{n} {kind}" for kind, n in calls.items())
    lines.append("")
    lines.append(
        f"API calls: at least {total} ({breakdown}); more for results with several "
        "pages or batches and for jobs that take long"
    )
    for organisation, credits in plan.credits().items():
        lines.append(
            f"API credits at {organisation}: at least {credits} of its rolling 24-hour "
            "allowance (a bulk read's create costs 50, a bulk write's 500, any other call 1)"
        )
    return "\n".join(lines)


def _imposed(seconds: float) -> str:
    if not seconds:
        return "no waiting"
    return f"they stretch over at least {format_duration(seconds)}"


def _job_line(plan: Plan, name: str, width: int) -> str:
    job = plan.jobs[name]
    model = plan.spec.jobs[name]
    if job.direction == "export":
        flow = f"{job.connection} -> {_output_path(plan, model.output or '')}"
    else:
        flow = f"{_output_path(plan, model.input_file or '')} -> {job.connection}"
    after = f"  after {', '.join(job.needs)}" if job.needs else ""
    outside = (
        f"  (needs {', '.join(job.outside_needs)}, not in this run)" if job.outside_needs else ""
    )
    return f"{name:<{width}}  {job.direction}  {flow}  [slot {job.slot}]{after}{outside}"


def _output_path(plan: Plan, relative: str) -> str:
    url = plan.spec.output_url
    if is_url(relative) or (url and not relative.startswith("/")):
        return relative if is_url(relative) else f"{url}/{relative}"
    target = Path(relative)
    full = target if target.is_absolute() else plan.spec.output_dir / target
    try:
        return str(full.relative_to(Path.cwd()))
    except ValueError:
        return str(full)


def _connections_used(plan: Plan) -> list[str]:
    return sorted({job.connection for job in plan.jobs.values()})


def _hosts(plan: Plan, name: str) -> dict[str, Any]:
    """The hosts a connection's requests go to: OAuth, then its product's API, then uploads
    (CRM imports)."""
    connection = plan.spec.connections[name]
    hosts = hosts_for(connection)
    used = [hosts.accounts, hosts.analytics if connection.product == "analytics" else hosts.api]
    if any(
        job.connection == name and job.direction == "import" and job.product == "crm"
        for job in plan.jobs.values()
    ):
        used.append(hosts.upload)
    return {
        "dc": None if connection.base_url else connection.dc,
        "hosts": list(dict.fromkeys(used)),
    }

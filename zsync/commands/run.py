"""`zsync run`: run a job file's jobs and write the run manifest, against Zoho or the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import click

from zsync.commands.validate import OutputFormat
from zsync.errors import SpecError
from zsync.manifest import Ledger
from zsync.plan import build_plan
from zsync.runner import run_plan
from zsync.scheduler import RunOptions
from zsync.spec import Spec, validate_spec
from zsync.spec.model import Auth


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
) -> int:
    result = validate_spec(path, for_run=not emulator)
    for diagnostic in result.diagnostics:
        click.echo(diagnostic.render(), err=True)
    if result.spec is None:
        raise SpecError(result.diagnostics)
    spec = result.spec
    build_plan(spec, select, exclude)  # a bad --select fails here, before anything starts
    states = Path(state_dir) if state_dir else spec.path.parent / ".zsync"
    ledger = Ledger.for_spec(spec.path, states)
    options = RunOptions(fail_fast=fail_fast, max_parallel=max_parallel)
    code = asyncio.run(_run(spec, select, exclude, ledger, options, emulator))
    if output == "json":
        click.echo(json.dumps(ledger.as_json(), indent=2))
    click.echo(f"manifest: {ledger.path}", err=output == "json")
    return code


async def _run(
    spec: Spec,
    select: Sequence[str],
    exclude: Sequence[str],
    ledger: Ledger,
    options: RunOptions,
    emulator: bool,
) -> int:
    started = time.monotonic()

    def report(message: str) -> None:
        click.echo(f"[{time.monotonic() - started:7.1f}s] {message}", err=True)

    async with _maybe_emulator(spec, emulator, report) as (run_spec, base_url):
        ledger.emulator = base_url
        plan = build_plan(run_spec, select, exclude)
        return await run_plan(plan, ledger, options, report, handle_signals=True)


@contextlib.asynccontextmanager
async def _maybe_emulator(
    spec: Spec, emulator: bool, report: Callable[[str], None]
) -> AsyncIterator[tuple[Spec, str | None]]:
    if not emulator:
        yield spec, None
        return
    from zsync.emulator import EmulatorConfig, running_emulator

    async with running_emulator(EmulatorConfig(time_scale=EMULATOR_TIME_SCALE)) as running:
        report(f"embedded emulator at {running.base_url} (no request leaves this machine)")
        demo = running.emulator.demo(running.base_url)
        yield point_at_emulator(spec, demo, running.base_url), running.base_url


# Emulated job durations are minutes of Zoho time; at this scale they take well under a second.
EMULATOR_TIME_SCALE = 600.0


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
        connections[name] = dataclasses.replace(connection, **changes)
    return dataclasses.replace(spec, connections=connections)

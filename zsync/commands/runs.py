"""`zsync runs`: the recorded runs, newest first, read from the state store (never written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from zsync import output as output_json
from zsync import redact
from zsync.commands import DEFAULT_RUNS_LIMIT, OutputFormat
from zsync.commands.status import (
    Liveness,
    duration,
    duration_seconds,
    reading,
    still_running,
    when,
)
from zsync.errors import ExitCode
from zsync.state import STATE_DIR_NAME
from zsync.state.records import RunRecord
from zsync.state.urls import described

DEFAULT_LIMIT = DEFAULT_RUNS_LIMIT
# Counts read best with the finished statuses first, in the order a person looks for them.
STATUS_ORDER = (
    "succeeded",
    "completed_with_errors",
    "failed",
    "timed_out",
    "cancelled",
    "skipped",
    "running",
    "queued",
)
COLUMNS = ("RUN", "STARTED (UTC)", "TOOK", "OUTCOME", "JOBS", "JOB FILE")


def runs(
    *,
    state_dir: str | None = None,
    limit: int = DEFAULT_LIMIT,
    output: OutputFormat = "text",
    state_url: str | None = None,
) -> int:
    directory = Path(state_dir or STATE_DIR_NAME)
    with reading(directory, state_url) as store:
        # One more than asked tells whether there are older runs not shown.
        found = [] if store is None else store.runs(limit=limit + 1)
        shown = found[:limit]
        counts = {} if store is None else {r.run_id: store.job_counts(r.run_id) for r in shown}
        live = {} if store is None else {r.run_id: still_running(store, r) for r in shown}
    if output == "json":
        listed = [as_json(run, counts[run.run_id], live[run.run_id]) for run in shown]
        output_json.print_document(listed)
        return ExitCode.OK
    if not shown:
        click.echo(f"no runs recorded in {described(state_url) if state_url else directory}")
        return ExitCode.OK
    click.echo(redact.text(table(shown, counts, live)))
    if len(found) > limit:
        click.echo(f"(older runs not shown: raise --limit above {limit} to see them)")
    return ExitCode.OK


def as_json(run: RunRecord, counts: dict[str, int], live: Liveness | None = None) -> dict[str, Any]:
    seconds = None if run.ended_at is None else duration_seconds(run.started_at, run.ended_at)
    return {
        "run_id": run.run_id,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "duration_seconds": seconds,
        "outcome": run.outcome,
        "jobs": {status: counts[status] for status in _ordered(counts)},
        "job_file": run.scope,
        "still_running": None if live is None else live.running,  # as in zsync status
    }


def table(
    shown: list[RunRecord],
    counts: dict[str, dict[str, int]],
    live: dict[str, Liveness | None] | None = None,
) -> str:
    live = live or {}
    rows = [COLUMNS, *(_cells(run, counts[run.run_id], live.get(run.run_id)) for run in shown)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )


def _cells(
    run: RunRecord, counts: dict[str, int], live: Liveness | None
) -> tuple[str, str, str, str, str, str]:
    took = "-" if run.ended_at is None else duration(run.started_at, run.ended_at) or "-"
    started = when(run.started_at).removesuffix(" UTC")
    # A run recorded as running whose process (or lock renewals) is gone never finished:
    # `zsync status RUN` says how it is known, and how to resume it.
    outcome = f"{run.outcome} (gone)" if live is not None and not live.running else run.outcome
    return (run.run_id, started, took, outcome, job_counts(counts), run.scope)


def job_counts(counts: dict[str, int]) -> str:
    """`3 succeeded, 1 failed`; `no jobs` when none was recorded."""
    return ", ".join(f"{counts[s]} {s}" for s in _ordered(counts)) or "no jobs"


def _ordered(counts: dict[str, int]) -> list[str]:
    known = [s for s in STATUS_ORDER if counts.get(s)]
    return known + sorted(s for s in counts if s not in STATUS_ORDER and counts[s])

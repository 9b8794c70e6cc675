"""The run manifest: a JSON view of one run, rendered from the state store.

`<state_dir>/runs/<run_id>/manifest.json` (schema: schemas/manifest.schema.json), plus
`<state_dir>/runs/latest` naming the newest run. It is rendered at the end of every run, and
while a run goes on at most every couple of seconds, off the event loop, so CI can archive it
and a person can read it mid-run. The store is the record; the manifest only shows it, and
never holds a secret (the store is given none: zsync.state.redacted). Only its owner may read
it (0600).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from zsync.background import beside
from zsync.private import create_private, private_dir
from zsync.state.codec import job_to_dict
from zsync.state.records import JobRecord, RunRecord
from zsync.state.store import StateStore

SCHEMA_VERSION = 2
WRITE_SLICE = 1 << 20  # characters
RENDER_EVERY = 2.0  # seconds between renders while a run goes on, at the least


def manifest_path(state_dir: Path, run_id: str) -> Path:
    return state_dir / "runs" / run_id / "manifest.json"


def render(run: RunRecord, jobs: dict[str, JobRecord]) -> dict[str, Any]:
    return {
        **_head(run),
        "jobs": {name: job_to_dict(record, remotes=True) for name, record in jobs.items()},
    }


def render_text(run: RunRecord, jobs_text: str) -> list[str]:
    """The manifest as JSON text around the store's `jobs` text, in pieces to write one after
    another: the run's keys indented, one line per job (diffs and greps read well), and no
    copy of a big run's text made whole (each copy holds the GIL)."""
    head = json.dumps(_head(run), indent=2)[: -len("\n}")]
    return [f'{head},\n  "jobs": ', jobs_text, "\n}\n"]


def _head(run: RunRecord) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run.run_id,
        "zsync_version": run.zsync_version,
        "spec": {"path": run.spec_path, "sha256": run.spec_sha256},
        "emulator": run.emulator,
        "started_at": run.started_at,
        "resumed_at": list(run.resumed_at),
        "ended_at": run.ended_at,
        "outcome": run.outcome,
        "exit_code": run.exit_code,
    }


def write_manifest(store: StateStore, state_dir: Path, run_id: str) -> Path:
    """Render one run from the store and write its manifest atomically."""
    run = store.run(run_id)
    if run is None:
        raise KeyError(run_id)
    path = manifest_path(state_dir, run_id)
    private_dir(path.parent)
    _write_atomic(path, render_text(run, store.jobs_text(run_id)))
    return path


def point_latest(state_dir: Path, run_id: str) -> None:
    """`runs/latest` is a link to the newest run's directory (`runs/latest/manifest.json`
    is its manifest), replaced atomically; where links can't be made (Windows without the
    privilege), a file holding the run's id."""
    latest = state_dir / "runs" / "latest"
    if _latest_id(latest) == run_id:
        return
    private_dir(latest.parent)
    temp = latest.with_name(f".latest.tmp-{secrets.token_hex(3)}")
    try:
        os.symlink(run_id, temp, target_is_directory=True)  # relative: the dir may move
        os.replace(temp, latest)
    except (OSError, NotImplementedError):
        temp.unlink(missing_ok=True)
        if latest.is_symlink():
            latest.unlink()
        _write_atomic(latest, run_id + "\n")


def read_latest(state_dir: Path) -> Path | None:
    """Path of the newest run's manifest, if any."""
    run_id = _latest_id(state_dir / "runs" / "latest")
    return None if run_id is None else manifest_path(state_dir, run_id)


def _latest_id(latest: Path) -> str | None:
    """The run `runs/latest` names: a link's target, or (older zsync, or no links) the id
    the file holds."""
    if latest.is_symlink():
        return os.path.basename(os.readlink(latest))
    if latest.is_file():
        return latest.read_text(encoding="utf-8").strip()
    return None


@contextlib.asynccontextmanager
async def rendered_while_running(
    render_now: Callable[[], object], changes: Callable[[], int], every: float = RENDER_EVERY
) -> AsyncIterator[None]:
    """Re-render the manifest in a worker thread whenever changes happened, at most every
    `every` seconds (longer when rendering itself takes long: a big run spends at most a
    fifth of its time on it)."""

    async def loop() -> None:
        seen = changes()
        pause = every
        while True:
            await asyncio.sleep(pause)
            if changes() == seen:
                continue
            seen = changes()
            started = time.monotonic()
            try:
                await asyncio.to_thread(render_now)
            except Exception:  # the end of the run renders it again, and says why it can't
                pause = max(every, 4 * (time.monotonic() - started))
                continue
            pause = max(every, 4 * (time.monotonic() - started))

    async with beside(loop(), "zsync manifest renderer"):
        yield


def _write_atomic(path: Path, text: str | list[str]) -> None:
    temp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(3)}")
    try:
        with create_private(temp) as handle:
            for piece in [text] if isinstance(text, str) else text:
                # In slices: encoding one holds the GIL; between them the event loop runs.
                for start in range(0, len(piece), WRITE_SLICE):
                    handle.write(piece[start : start + WRITE_SLICE])
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)

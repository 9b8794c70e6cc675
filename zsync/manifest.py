"""The run manifest: a ledger of what a run did, rewritten atomically on every state change.

`<state_dir>/runs/<run_id>/manifest.json`, plus `<state_dir>/runs/latest` naming the newest
run. Records are frozen; the ledger replaces them as the run moves on. It never holds a
secret: nothing from a connection's auth is ever given to it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from zsync import __version__
from zsync.products import Direction, Product

SCHEMA_VERSION = 1
JobStatus = Literal[
    "pending", "running", "succeeded", "failed", "skipped", "cancelled", "timed_out"
]
Outcome = Literal["running", "succeeded", "failed", "partial", "timed_out", "interrupted"]
ErrorClass = Literal["config", "remote", "transient", "timeout", "internal"]


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


@dataclass(frozen=True)
class StateChange:
    state: str
    remote: str
    at: str


@dataclass(frozen=True)
class RemoteJob:
    id: str | None
    created_at: str
    page: int | None = None
    cursor: str | None = None
    status_calls: int = 0
    states: tuple[StateChange, ...] = ()
    count: int | None = None
    part: int | None = None
    first_row: int | None = None
    last_row: int | None = None
    mode: str | None = None
    file_id: str | None = None
    summary: dict[str, Any] | None = None


@dataclass(frozen=True)
class OutputRecord:
    path: str
    bytes: int
    rows: int | None
    sha256: str
    pages: int = 1


@dataclass(frozen=True)
class ImportRecord:
    file: str
    bytes: int
    rows: int
    parts: int
    rows_landed: int = 0
    added: int | None = None
    updated: int | None = None
    skipped: int | None = None
    failed: int | None = None
    results: OutputRecord | None = None


@dataclass(frozen=True)
class ErrorRecord:
    error_class: ErrorClass
    message: str
    code: str | None = None


@dataclass(frozen=True)
class JobRecord:
    direction: Direction
    connection: str
    product: Product
    status: JobStatus = "pending"
    attempts: int = 0
    started_at: str | None = None
    ended_at: str | None = None
    reason: str | None = None
    re_exported: bool = False
    remote_jobs: tuple[RemoteJob, ...] = ()
    output: OutputRecord | None = None
    error: ErrorRecord | None = None
    imported: ImportRecord | None = None


@dataclass
class Ledger:
    """The manifest of one run; each change is written to disk before the call returns."""

    state_dir: Path
    spec_path: Path
    spec_sha256: str
    run_id: str = field(default_factory=new_run_id)
    started_at: str = field(default_factory=now)
    emulator: str | None = None
    jobs: dict[str, JobRecord] = field(default_factory=dict)
    outcome: Outcome = "running"
    exit_code: int | None = None
    ended_at: str | None = None

    @property
    def path(self) -> Path:
        return self.state_dir / "runs" / self.run_id / "manifest.json"

    @classmethod
    def for_spec(cls, spec_path: Path, state_dir: Path, **kwargs: Any) -> Ledger:
        digest = hashlib.sha256(spec_path.read_bytes()).hexdigest()
        return cls(state_dir=state_dir, spec_path=spec_path, spec_sha256=digest, **kwargs)

    # -- changes -------------------------------------------------------------------------

    def add_job(self, name: str, record: JobRecord) -> None:
        self.jobs[name] = record
        self.write()

    def update_job(self, name: str, **changes: Any) -> JobRecord:
        self.jobs[name] = dataclasses.replace(self.jobs[name], **changes)
        self.write()
        return self.jobs[name]

    def add_remote(self, name: str, remote: RemoteJob) -> int:
        """Record a remote job (before its create call: id None); returns its index."""
        record = self.jobs[name]
        self.update_job(name, remote_jobs=(*record.remote_jobs, remote))
        return len(record.remote_jobs)

    def update_remote(self, name: str, index: int, **changes: Any) -> None:
        remotes = list(self.jobs[name].remote_jobs)
        remotes[index] = dataclasses.replace(remotes[index], **changes)
        self.update_job(name, remote_jobs=tuple(remotes))

    def remote_state(self, name: str, index: int, state: str, remote: str) -> None:
        """Count a status call; record the state when it changed."""
        current = self.jobs[name].remote_jobs[index]
        states = current.states
        if not states or (states[-1].state, states[-1].remote) != (state, remote):
            states = (*states, StateChange(state, remote, now()))
        self.update_remote(name, index, states=states, status_calls=current.status_calls + 1)

    def finish(self, outcome: Outcome, exit_code: int) -> None:
        self.outcome = outcome
        self.exit_code = exit_code
        self.ended_at = now()
        self.write()

    # -- disk ----------------------------------------------------------------------------

    def as_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "zsync_version": __version__,
            "spec": {"path": str(self.spec_path), "sha256": self.spec_sha256},
            "emulator": self.emulator,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "jobs": {name: _job_json(record) for name, record in self.jobs.items()},
        }

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.path, json.dumps(self.as_json(), indent=2) + "\n")
        _point_latest(self.state_dir / "runs", self.run_id)


def _job_json(record: JobRecord) -> dict[str, Any]:
    data = dataclasses.asdict(record)
    if record.error is not None:
        data["error"] = {
            "class": record.error.error_class,
            "code": record.error.code,
            "message": record.error.message,
        }
    return data


def _write_atomic(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(3)}")
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def _point_latest(runs: Path, run_id: str) -> None:
    """`runs/latest` names the newest run: a file holding its id (works on every OS)."""
    latest = runs / "latest"
    if latest.is_file() and latest.read_text(encoding="utf-8").strip() == run_id:
        return
    _write_atomic(latest, run_id + "\n")


def read_latest(state_dir: Path) -> Path | None:
    """Path of the newest run's manifest, if any."""
    latest = state_dir / "runs" / "latest"
    if not latest.is_file():
        return None
    return state_dir / "runs" / latest.read_text(encoding="utf-8").strip() / "manifest.json"

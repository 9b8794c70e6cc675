"""What a run records: frozen records of runs, jobs, Zoho jobs, outputs, imports and locks.

The state store keeps them; the manifest and `zsync status` render them. None of them ever
holds a secret: nothing from a connection's auth is given to them.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from zsync.products import Direction, Product

JobStatus = Literal[
    "queued",
    "running",
    "succeeded",
    "completed_with_errors",
    "failed",
    "skipped",
    "cancelled",
    "timed_out",
]
# A job in one of these needs nothing more on resume.
DONE: frozenset[str] = frozenset({"succeeded", "completed_with_errors"})
Outcome = Literal[
    "running", "succeeded", "failed", "partial", "timed_out", "interrupted", "abandoned"
]
ErrorClass = Literal["config", "remote", "transient", "timeout", "internal"]


_second: tuple[int, str] = (0, "")


def now() -> str:
    """UTC now as 2026-01-31T12:00:00.123456Z. Called for every status answer of every job:
    the formatted second is reused while it lasts."""
    global _second
    moment = time.time()
    whole = int(moment)
    if _second[0] != whole:
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{_second[1]}.{int((moment - whole) * 1_000_000):06d}Z"


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


@dataclass(frozen=True, slots=True)
class StateChange:
    state: str
    remote: str
    at: str


@dataclass(frozen=True, slots=True)
class RemoteJob:
    """One job at Zoho. Recorded with `id=None` before its create call (the intent), and
    given its id as soon as the create answers."""

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
    # A create Zoho refused outright (nothing was created): its error code. An intent with
    # neither an id nor a refusal is a create whose outcome is unknown.
    refused: str | None = None
    definition: str = ""  # sha256 of the job's definition when it was created: reused only
    # by a run whose job still means the same thing

    @property
    def outcome_unknown(self) -> bool:
        return self.id is None and self.refused is None

    @property
    def last_state(self) -> str | None:
        return self.states[-1].state if self.states else None

    def was_seen(self, *states: str) -> bool:
        """Whether a status answer ever put the job in one of `states` (a later answer that
        Zoho forgot it takes nothing back)."""
        return any(change.state in states for change in self.states)


@dataclass(frozen=True, slots=True)
class OutputRecord:
    path: str
    bytes: int
    rows: int | None
    sha256: str
    pages: int = 1


@dataclass(frozen=True, slots=True)
class ImportRecord:
    file: str
    bytes: int
    rows: int
    parts: int
    sha256: str = ""  # of the file's bytes: what "the same input" means across runs
    target: str = ""  # where it lands: product, Zoho, organisation, table or module
    mode: str = ""  # append | truncateadd | updateadd | insert | update | upsert
    rows_landed: int = 0
    parts_landed: int = 0
    added: int | None = None
    updated: int | None = None
    skipped: int | None = None
    failed: int | None = None
    results: OutputRecord | None = None


@dataclass(frozen=True, slots=True)
class IncrementalRecord:
    """An incremental export's watermarks: what it read from (`since`, the stored watermark
    `previous` minus the overlap; None on a first run or a full refresh) and the highest
    `field` value its output holds (`watermark`, None until the output is committed). The
    store's watermark under `key` becomes `watermark` only when the run ends well."""

    key: str
    field: str
    previous: str | None = None
    since: str | None = None
    watermark: str | None = None
    full_refresh: bool = False


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    error_class: ErrorClass
    message: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class JobRecord:
    direction: Direction
    connection: str
    product: Product
    definition_sha256: str = ""
    status: JobStatus = "queued"
    attempts: int = 0
    started_at: str | None = None
    ended_at: str | None = None
    reason: str | None = None
    re_exported: bool = False
    remote_jobs: tuple[RemoteJob, ...] = ()
    output: OutputRecord | None = None
    error: ErrorRecord | None = None
    imported: ImportRecord | None = None
    incremental: IncrementalRecord | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    scope: str  # the job file's absolute path: one lock, one history per job file
    spec_path: str
    spec_sha256: str
    zsync_version: str
    started_at: str
    pid: int
    host: str
    emulator: str | None = None
    ended_at: str | None = None
    outcome: Outcome = "running"
    exit_code: int | None = None
    resumed_at: tuple[str, ...] = ()  # each time the run was resumed


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a job file's run lock: enough to tell whether it is still alive."""

    scope: str
    run_id: str
    pid: int
    host: str
    started_at: str
    process_start: str | None = None  # the process's start time (tells a reused pid apart)

    def describe(self) -> str:
        return f"run {self.run_id} (pid {self.pid} on {self.host}, since {self.started_at})"


@dataclass(frozen=True, slots=True)
class LandedImport:
    """An earlier run's import of the same file into the same target in the same mode."""

    run_id: str
    job: str
    ended_at: str | None
    rows_landed: int
    parts_landed: int
    parts: int
    complete: bool
    uncertain: bool  # a part's create was sent but its answer never came

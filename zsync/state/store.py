"""The state store's interface: a few typed writes applied atomically, and a few reads.

Everything a run records goes through `StateStore.apply` as a batch of small changes (one
row each: constant cost whatever the run's size); the manifest, `zsync status`, `zsync runs`
and `--resume` read it back. A backend is one class with these methods: SQLite
(`zsync.state.sqlite`) is the embedded default; the shared backend (`zsync.state.postgres`)
implements the same methods, and no caller changes.

Backends must be safe to call from several threads (the recorder writes from one, the
manifest renderer reads from another).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

from zsync.state.records import (
    JobRecord,
    LandedImport,
    LockHolder,
    Outcome,
    RemoteJob,
    RunRecord,
)


class RunPut(NamedTuple):
    """Insert or replace a run's own row (not its jobs)."""

    run: RunRecord


class JobPut(NamedTuple):
    """Insert or replace one job's row; its remote jobs are written apart (RemotePut)."""

    run_id: str
    name: str
    record: JobRecord


class RemotePut(NamedTuple):
    """Insert or replace one of a job's Zoho jobs."""

    run_id: str
    job: str
    position: int  # 0-based, in the order the job's Zoho jobs were recorded
    remote: RemoteJob


class DurationPut(NamedTuple):
    """How long one Zoho job of a kind took, seen from zsync: still unfinished `lower`
    seconds after its create answered (None: never seen so), finished at `upper`. `key` is
    a hash of what the job does (`fingerprints.duration_key`); the newest few per key are
    kept (the store drops older ones)."""

    key: str
    lower: float | None
    upper: float
    at: str


class WatermarkPut(NamedTuple):
    """Set an incremental export's watermark: the highest modification time its committed
    output held. `key` names the job and what it exports (`watermarks.watermark_key`); one
    row per key, replaced (a backend keeps only the newest value, with the run that set it
    and when, for `zsync status` and debugging)."""

    key: str
    value: str
    run_id: str
    at: str


Change = RunPut | JobPut | RemotePut | DurationPut | WatermarkPut
DURATIONS_KEPT = 20  # per key: what polling learns from
# A shared store can't check a holder's pid on another host: a run renews its lock this
# often, and a holder that hasn't renewed it for LOCK_TTL seconds is taken as gone.
LOCK_RENEW_EVERY = 30.0
LOCK_TTL = 120.0


class HeldLock(NamedTuple):
    holder: LockHolder
    # Seconds since the holder last renewed it (a shared store); None where holders renew
    # nothing (a local file: they are on this host, checked by pid).
    silence: float | None


class LockResult(NamedTuple):
    acquired: bool
    holder: LockHolder | None  # who holds it now when refused; whom we took it from if not


class StateStore(Protocol):
    def apply(self, changes: Sequence[Change]) -> None:
        """Write every change, all or none."""

    def acquire_lock(self, holder: LockHolder, alive: Callable[[LockHolder], bool]) -> LockResult:
        """Take the run lock of `holder.scope`, unless a live holder has it. A holder that
        `alive` says is gone is replaced (and returned, so the caller can say so)."""

    def renew_lock(self, scope: str, run_id: str) -> bool:
        """Say that `run_id`, holding the lock, still lives; False when it no longer holds it
        (a shared store gave it to another run after LOCK_TTL without renewal)."""

    def release_lock(self, scope: str, run_id: str) -> None:
        """Give the lock up, if `run_id` still holds it."""

    def run_lock(self, scope: str) -> HeldLock | None:
        """Who holds the run lock of `scope` now, if anyone: zsync status tells a run that
        died from one still going by it."""

    def run(self, run_id: str) -> RunRecord | None: ...

    def runs(self, scope: str | None = None, limit: int | None = None) -> list[RunRecord]:
        """Runs, newest first; of one job file when `scope` is given."""

    def unfinished(self, scope: str) -> list[RunRecord]:
        """Runs of this job file whose outcome is still `running`."""

    def end_run(self, run_id: str, outcome: Outcome, exit_code: int | None, at: str) -> None: ...

    def jobs(self, run_id: str) -> dict[str, JobRecord]:
        """Every job of a run with its remote jobs, in the order they were first recorded."""

    def jobs_text(self, run_id: str) -> str:
        """The manifest's `jobs` object of a run as JSON text (one job per line, indented by
        four spaces, remote jobs included, in the order jobs were first recorded): what a
        renderer needs without building a record per field."""

    def job_counts(self, run_id: str) -> dict[str, int]:
        """How many jobs of a run are in each status."""

    def landed_imports(
        self, sha256: str, target: str, mode: str, *, besides: str
    ) -> list[LandedImport]:
        """Imports of the same file into the same target and mode that landed rows (or may
        have), in runs other than `besides`; newest first."""

    def durations(self, keys: Sequence[str]) -> dict[str, list[tuple[float | None, float]]]:
        """The kept (lower, upper) durations of each key that has any, newest first."""

    # -- shared with every runner on this store (zsync.state.sharing) ----------------------

    def take_slot(self, key: str, cap: int, lease: str, holder: str, ttl: float) -> bool:
        """Lease one of the `cap` slots of `key` for `ttl` seconds, unless `cap` leases of
        it are live (expired ones are dropped first). One transaction."""

    def renew_slots(self, leases: Sequence[str], ttl: float) -> None:
        """Push the expiry of these leases `ttl` seconds past now."""

    def free_slot(self, lease: str) -> None: ...

    def slots_taken(self, key: str) -> int:
        """Live leases of `key`."""

    def take_call(self, key: str, calls: int, per: float, call: str) -> float:
        """Count `call` against the window `key` (`calls` per `per` seconds, counted from
        each call's end) and return 0.0; or, when the window is full, record nothing and
        return the seconds until it may have room."""

    def end_call(self, call: str) -> None:
        """The call's answer came: it counts until `per` seconds from now."""

    def shared_token(self, key: str) -> tuple[str, float] | None:
        """The access token runners opted to share under `key`, with its expiry (epoch
        seconds); None when there is none."""

    def put_shared_token(self, key: str, token: str, expires: float) -> None:
        """Share an access token (auth.share_access_token: the store then holds a secret)."""

    def watermarks(self, keys: Sequence[str]) -> dict[str, str]:
        """The stored watermark of each key that has one."""

    def close(self) -> None: ...

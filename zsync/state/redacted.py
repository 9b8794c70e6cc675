"""A state store that is never given a secret: every record a run writes passes through
zsync.redact on its way to the store underneath, so neither the store nor the manifest
rendered from it holds one (a Zoho error quoting a module name taken from `${VAR}`, say).

An import's target names where its rows land (organisation, module...), and the never-twice
rule looks imports up by it: a target holding a secret is kept as its sha256 instead, the
same on write and on look-up, so two targets that differ only by a secret stay apart.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence

from zsync import redact
from zsync.state.records import JobRecord, LandedImport, LockHolder, Outcome, RunRecord
from zsync.state.store import (
    Change,
    DurationPut,
    HeldLock,
    JobPut,
    LockResult,
    RemotePut,
    RunPut,
    StateStore,
    WatermarkPut,
)


class RedactedStore:
    """`RedactedStore(store)`: the same reads as `store`; writes with secrets masked."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def apply(self, changes: Sequence[Change]) -> None:
        self.store.apply([_redacted(change) for change in changes])

    def acquire_lock(self, holder: LockHolder, alive: Callable[[LockHolder], bool]) -> LockResult:
        return self.store.acquire_lock(holder, alive)

    def renew_lock(self, scope: str, run_id: str) -> bool:
        return self.store.renew_lock(scope, run_id)

    def release_lock(self, scope: str, run_id: str) -> None:
        self.store.release_lock(scope, run_id)

    def run_lock(self, scope: str) -> HeldLock | None:
        return self.store.run_lock(scope)

    def run(self, run_id: str) -> RunRecord | None:
        return self.store.run(run_id)

    def runs(self, scope: str | None = None, limit: int | None = None) -> list[RunRecord]:
        return self.store.runs(scope, limit)

    def unfinished(self, scope: str) -> list[RunRecord]:
        return self.store.unfinished(scope)

    def end_run(self, run_id: str, outcome: Outcome, exit_code: int | None, at: str) -> None:
        self.store.end_run(run_id, outcome, exit_code, at)

    def jobs(self, run_id: str) -> dict[str, JobRecord]:
        return self.store.jobs(run_id)

    def jobs_text(self, run_id: str) -> str:
        return self.store.jobs_text(run_id)

    def job_counts(self, run_id: str) -> dict[str, int]:
        return self.store.job_counts(run_id)

    def landed_imports(
        self, sha256: str, target: str, mode: str, *, besides: str
    ) -> list[LandedImport]:
        return self.store.landed_imports(sha256, stored_target(target), mode, besides=besides)

    def durations(self, keys: Sequence[str]) -> dict[str, list[tuple[float | None, float]]]:
        return self.store.durations(keys)

    # Slot and window keys name organisations (an org id may come from a secret variable):
    # stored as digests, the same in every runner whatever its job file took from where.
    def take_slot(self, key: str, cap: int, lease: str, holder: str, ttl: float) -> bool:
        return self.store.take_slot(shared_key(key), cap, lease, redact.text(holder), ttl)

    def renew_slots(self, leases: Sequence[str], ttl: float) -> None:
        self.store.renew_slots(leases, ttl)

    def free_slot(self, lease: str) -> None:
        self.store.free_slot(lease)

    def slots_taken(self, key: str) -> int:
        return self.store.slots_taken(shared_key(key))

    def take_call(self, key: str, calls: int, per: float, call: str) -> float:
        return self.store.take_call(shared_key(key), calls, per, call)

    def end_call(self, call: str) -> None:
        self.store.end_call(call)

    # The one secret a store may keep, and only where the job file opts in: kept as it is,
    # or it couldn't be used (auth.share_access_token).
    def shared_token(self, key: str) -> tuple[str, float] | None:
        return self.store.shared_token(key)

    def put_shared_token(self, key: str, token: str, expires: float) -> None:
        self.store.put_shared_token(key, token, expires)

    def watermarks(self, keys: Sequence[str]) -> dict[str, str]:
        return self.store.watermarks(keys)

    def close(self) -> None:
        self.store.close()


def shared_key(key: str) -> str:
    """A slot's or a window's key as runners share it in the store."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def stored_target(target: str) -> str:
    """An import target as the store keeps it: as is, or its sha256 when it holds a secret."""
    if redact.text(target) == target:
        return target
    return "sha256:" + hashlib.sha256(target.encode()).hexdigest()


def _redacted(change: Change) -> Change:
    if isinstance(change, DurationPut | WatermarkPut):
        return change  # hashes, numbers, a date-time and ids zsync made
    if isinstance(change, RemotePut):
        return change._replace(remote=redact.scrub(change.remote))
    if isinstance(change, JobPut):
        record = change.record
        imported = record.imported
        if imported is not None:
            imported = dataclasses.replace(
                redact.scrub(imported), target=stored_target(imported.target)
            )
        # The job's remote jobs aren't written with it (RemotePut writes each): not walked.
        bare = dataclasses.replace(record, remote_jobs=(), imported=None)
        masked = dataclasses.replace(
            redact.scrub(bare), remote_jobs=record.remote_jobs, imported=imported
        )
        # Job and run ids are names the job file or zsync chose, never from the environment.
        return change._replace(record=masked)
    assert isinstance(change, RunPut)
    return change._replace(run=redact.scrub(change.run))

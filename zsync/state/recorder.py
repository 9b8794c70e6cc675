"""One run's record keeper: jobs in memory for the scheduler, every change on its way to the store.

A change costs the event loop a queue put. One writer thread takes whatever is queued and
commits it in one transaction (many changes per commit when a run is busy, one when it is
quiet), so the loop never waits on the disk. Where a change must be on disk before zsync goes
on (the intent before a create call, the Zoho id right after), the caller awaits `durable()`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import queue
import threading
from typing import Any, NamedTuple

from zsync.errors import StateError
from zsync.state.records import JobRecord, RemoteJob, RunRecord, StateChange, now
from zsync.state.store import (
    Change,
    DurationPut,
    JobPut,
    RemotePut,
    RunPut,
    StateStore,
    WatermarkPut,
)

MAX_BATCH = 2_000


class _Barrier(NamedTuple):
    future: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop


class _Stop:
    pass


class Recorder:
    """Use as `async with Recorder(store, run, jobs) as recorder:` inside the event loop."""

    def __init__(self, store: StateStore, run: RunRecord, jobs: dict[str, JobRecord]) -> None:
        self.store = store
        self.run = run
        self.jobs = jobs
        # Set when another run took this run's lock (a shared store): the run must stop.
        self.lock_lost: asyncio.Event | None = None
        self.changes = 0  # how many were queued: the manifest renders when this moves
        self.committed = 0
        self.batches = 0
        self._queue: queue.SimpleQueue[Change | _Barrier | _Stop] = queue.SimpleQueue()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(
            target=self._write_loop, name="zsync state writer", daemon=True
        )

    async def __aenter__(self) -> Recorder:
        self._thread.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Wait until everything queued is committed, then stop the writer."""
        if not self._thread.is_alive():
            return
        self._queue.put(_Stop())
        await asyncio.to_thread(self._thread.join)
        if self._failure is not None:
            raise StateError(str(self._failure)) from self._failure

    async def durable(self) -> None:
        """Return once every change queued so far is committed."""
        if self._failure is not None:
            raise StateError(str(self._failure)) from self._failure
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put(_Barrier(future, loop))
        await future

    # -- changes -------------------------------------------------------------------------

    def put_run(self, **changes: Any) -> RunRecord:
        self.run = dataclasses.replace(self.run, **changes)
        self._send(RunPut(self.run))
        return self.run

    def put_job(self, name: str, record: JobRecord, *, write: bool = True) -> JobRecord:
        """Take a job into the run; `write=False` for one already stored as it is. Its remote
        jobs are in the store already (new jobs have none)."""
        self.jobs[name] = record
        if write:
            self._send(JobPut(self.run.run_id, name, record))
        return record

    def update_job(self, name: str, **changes: Any) -> JobRecord:
        record = dataclasses.replace(self.jobs[name], **changes)
        self.jobs[name] = record
        self._send(JobPut(self.run.run_id, name, record))
        return record

    def add_remote(self, name: str, remote: RemoteJob) -> int:
        """Record a remote job (before its create call: id None); returns its index."""
        record = self.jobs[name]
        index = len(record.remote_jobs)
        self.jobs[name] = dataclasses.replace(record, remote_jobs=(*record.remote_jobs, remote))
        self._send(RemotePut(self.run.run_id, name, index, remote))
        return index

    def update_remote(self, name: str, index: int, **changes: Any) -> RemoteJob:
        record = self.jobs[name]
        remotes = list(record.remote_jobs)
        remotes[index] = dataclasses.replace(remotes[index], **changes)
        self.jobs[name] = dataclasses.replace(record, remote_jobs=tuple(remotes))
        self._send(RemotePut(self.run.run_id, name, index, remotes[index]))
        return remotes[index]

    def remote_state(
        self,
        name: str,
        index: int,
        state: str,
        remote: str,
        count: int | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        """Count a status call; record the state when it changed, and the records Zoho
        says the job holds when it says. `summary`: what a finished import's status said,
        recorded with its state in one change (Zoho keeps it only for a while)."""
        current = self.jobs[name].remote_jobs[index]
        states = current.states
        if not states or (states[-1].state, states[-1].remote) != (state, remote):
            states = (*states, StateChange(state, remote, now()))
        self.update_remote(
            name,
            index,
            states=states,
            status_calls=current.status_calls + 1,
            count=current.count if count is None else count,
            summary=current.summary if summary is None else summary,
        )

    def duration(self, key: str, lower: float | None, upper: float) -> None:
        """Keep how long a Zoho job of this kind took (polling learns from it)."""
        self._send(DurationPut(key, lower, upper, now()))

    def watermark(self, key: str, value: str) -> None:
        """Advance an incremental export's stored watermark (only once its run ended well)."""
        self._send(WatermarkPut(key, value, self.run.run_id, now()))

    def _send(self, change: Change) -> None:
        self.changes += 1
        self._queue.put(change)

    # -- the writer thread -----------------------------------------------------------------

    def _write_loop(self) -> None:
        stop = False
        while not stop:
            items = [self._queue.get()]
            while len(items) < MAX_BATCH:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            changes = [i for i in items if not isinstance(i, (_Barrier, _Stop))]
            stop = any(isinstance(i, _Stop) for i in items)
            if changes and self._failure is None:
                try:
                    self.store.apply(_coalesced(changes))
                    self.committed += len(changes)
                    self.batches += 1
                except BaseException as exc:  # reported to every waiter, and at close
                    self._failure = exc
            barriers = [item for item in items if isinstance(item, _Barrier)]
            if barriers:  # one wake-up of the loop for the whole batch
                barriers[0].loop.call_soon_threadsafe(_settle, barriers, self._failure)


def _coalesced(changes: list[Change]) -> list[Change]:
    """One change per row: a batch commits as one transaction, so only each row's last
    value is ever seen (a busy run writes a remote job's row several times per batch). The
    row keeps its first place, so a job is inserted where it was first queued."""
    latest: dict[tuple[Any, ...], Change] = {}
    for change in changes:
        if isinstance(change, RemotePut):
            latest[(RemotePut, change.run_id, change.job, change.position)] = change
        elif isinstance(change, JobPut):
            latest[(JobPut, change.run_id, change.name)] = change
        elif isinstance(change, RunPut):
            latest[(RunPut, change.run.run_id)] = change
        elif isinstance(change, WatermarkPut):
            latest[(WatermarkPut, change.key)] = change
        else:  # every duration is a row of its own
            latest[(DurationPut, len(latest))] = change
    return list(latest.values())


def _settle(barriers: list[_Barrier], failure: BaseException | None) -> None:
    for barrier in barriers:
        if barrier.future.done():  # its waiter was cancelled
            continue
        if failure is None:
            barrier.future.set_result(None)
        else:
            barrier.future.set_exception(StateError(f"the state store failed: {failure}"))

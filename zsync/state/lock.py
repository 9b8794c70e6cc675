"""One run at a time per job file: the run lock, its holder, and whether that holder lives.

Like Terraform's state lock, a holder names itself (run, pid, host, start time); a second run
is refused with that, or waits. A lock whose process is gone on this host is taken over,
and the run says so; one held on another host is never broken silently (a shared store
takes it over only once its holder stopped renewing it for LOCK_TTL, and says so too).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

from zsync.errors import LockedError, StateError
from zsync.state.records import LockHolder, now
from zsync.state.store import LOCK_RENEW_EVERY, LOCK_TTL, StateStore

LOCK_POLL = 0.5


def holder_for(scope: str, run_id: str) -> LockHolder:
    pid = os.getpid()
    return LockHolder(
        scope=scope,
        run_id=run_id,
        pid=pid,
        host=socket.gethostname(),
        started_at=now(),
        process_start=process_start(pid),
    )


def alive(holder: LockHolder) -> bool:
    """False only when this host can tell the holder's process is gone."""
    if holder.host != socket.gethostname():
        return True
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's live process
    started = process_start(holder.pid)
    if started == "zombie":
        return False
    # A pid the system reused for another process since.
    return not (holder.process_start and started and started != holder.process_start)


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), 'zombie' for a process
    that has exited but not been reaped; None where /proc doesn't say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20:
        return None
    return "zombie" if fields[0] in ("Z", "X") else fields[19]


async def take_lock(
    store: StateStore,
    holder: LockHolder,
    spec_path: str,
    *,
    wait: float | None,
    report: Callable[[str], None],
) -> None:
    """Take the job file's run lock, waiting up to `wait` seconds for it (None: don't)."""
    deadline = time.monotonic() + (wait or 0)
    told = False
    while True:
        result = await asyncio.to_thread(store.acquire_lock, holder, alive)
        if result.acquired:
            gone = result.holder
            if gone is not None:
                why = (
                    "that process is gone"
                    if gone.host == socket.gethostname()
                    else f"it wasn't renewed for {LOCK_TTL:g}s"
                )
                report(f"took over the run lock of {gone.describe()}: {why}")
            return
        current = result.holder
        assert current is not None
        if wait is None or time.monotonic() >= deadline:
            waited = f" (waited {wait:g}s)" if wait else ""
            raise LockedError(
                f"{spec_path} is already being run by {current.describe()}{waited}; "
                "wait for it with --wait-lock DURATION (e.g. --wait-lock 10m), or check that "
                "process"
            )
        if not told:
            report(f"waiting for the run lock held by {current.describe()}")
            told = True
        await asyncio.sleep(LOCK_POLL)


async def keep_lock(
    store: StateStore,
    scope: str,
    run_id: str,
    report: Callable[[str], None],
    *,
    every: float | None = None,
    lost: asyncio.Event | None = None,
) -> None:
    """Renew the run lock every `every` seconds (LOCK_RENEW_EVERY) while the run goes on (run
    it `beside` the run): a shared store takes a holder that stops renewing for LOCK_TTL as
    gone. When another run has taken it, `lost` is set: the run must stop, or two runs of
    one job file would overlap (and might send an import twice)."""
    while True:
        await asyncio.sleep(LOCK_RENEW_EVERY if every is None else every)
        # A store that can't be reached now may be back by the next renewal; the run's own
        # writes fail loudly if it stays away.
        with contextlib.suppress(StateError):
            held = await asyncio.to_thread(store.renew_lock, scope, run_id)
            if not held:
                report(
                    f"run {run_id} no longer holds the run lock of {scope}: it wasn't renewed "
                    "in time and another run took it; this run stops starting anything"
                )
                if lost is not None:
                    lost.set()
                return

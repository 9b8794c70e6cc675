"""Sending a create call: the intent on disk first, Zoho's id right after; a full cap waits.

Zoho counts jobs zsync doesn't know about (a killed run's, another tool's): when a create is
refused because the organisation's cap is reached, nothing was created, so the job waits for
a slot to free up at Zoho and asks again instead of failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from zsync.errors import GarbageReply, RemoteError
from zsync.spec.model import Poll
from zsync.state.recorder import Recorder
from zsync.state.records import now

T = TypeVar("T")

# Zoho's answers that mean "the organisation's job cap is reached": nothing was created.
# Analytics 8084 [emulator README: no public code found; the emulator answers it] and 8132
# (a generated v2 "Asynchronous Data Export" page lists it for the concurrent-export limit;
# unconfirmed); CRM's LIMIT_EXCEEDED [guess: CRM names its limit errors so]. Taking a code too
# many only makes a refused create wait for a slot instead of failing.
CAP_REACHED_CODES = frozenset({"8084", "8132", "LIMIT_EXCEEDED"})
CAP_WAIT_GROWTH = 1.6


async def create_recorded(
    recorder: Recorder,
    job: str,
    index: int,
    create: Callable[[], Awaitable[str]],
    poll: Poll,
    progress: Callable[[str], None],
) -> str:
    """Send the create of the remote job recorded (as an intent) at `index` of `job`:
    the intent is durable before the call, the id right after it."""

    async def refused(code: str) -> None:
        recorder.update_remote(job, index, refused=code)
        await recorder.durable()

    async def retrying() -> None:
        recorder.update_remote(job, index, refused=None, created_at=now())
        await recorder.durable()

    await recorder.durable()
    try:
        remote_id = await create_within_cap(
            create, poll, refused=refused, retrying=retrying, progress=progress
        )
    except GarbageReply:
        # Zoho answered 2xx, not with an id zsync can read: it may well have made the job,
        # so the intent stays an unknown outcome (an import won't send the part again).
        raise
    except RemoteError as exc:
        await refused(exc.code or "refused")  # Zoho said no: nothing was created
        raise
    recorder.update_remote(job, index, id=remote_id)
    await recorder.durable()
    return remote_id


def cap_reached(error: RemoteError) -> bool:
    return error.code in CAP_REACHED_CODES


async def create_within_cap(
    create: Callable[[], Awaitable[T]],
    poll: Poll,
    *,
    refused: Callable[[str], Awaitable[None]],
    retrying: Callable[[], Awaitable[None]],
    progress: Callable[[str], None],
) -> T:
    """Call `create`; while Zoho answers that the cap is reached, wait (from poll.first,
    growing to poll.max) and try again. `refused` records that nothing was created before
    the wait, `retrying` that a create is about to be sent again; poll.timeout bounds it all
    (the caller's timeout)."""
    delay = poll.first
    waited = False
    while True:
        try:
            return await create()
        except RemoteError as exc:
            if not cap_reached(exc):
                raise
            await refused(exc.code or "")
            if not waited:
                progress(
                    "Zoho says the organisation's job cap is reached (jobs zsync didn't start, "
                    "or a killed run's, still count); waiting for a slot"
                )
                waited = True
            await asyncio.sleep(delay)
            delay = min(poll.max, delay * CAP_WAIT_GROWTH)
            await retrying()

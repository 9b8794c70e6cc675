"""Waiting for a Zoho job: check soon after the create, then less and less often."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from zsync.providers.base import TERMINAL, State
from zsync.spec.model import Poll

POLL_GROWTH = 1.6
POLL_JITTER = 0.1


class Checked(Protocol):
    @property
    def state(self) -> State: ...

    @property
    def remote(self) -> str: ...


C = TypeVar("C", bound=Checked)


async def poll_until_done(
    check: Callable[[], Awaitable[C]], poll: Poll, seen: Callable[[C], None]
) -> C:
    """Check after poll.first, then less and less often (with jitter) up to poll.max, until
    the remote job reaches a terminal state; `seen` records every answer."""
    delay = poll.first
    while True:
        await asyncio.sleep(delay)
        status = await check()
        seen(status)
        if status.state in TERMINAL:
            return status
        jitter = random.uniform(1 - POLL_JITTER, 1 + POLL_JITTER)
        delay = min(poll.max, delay * POLL_GROWTH * jitter)

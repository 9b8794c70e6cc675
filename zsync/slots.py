"""A job's concurrency slot: one semaphore per organisation, product and direction.

A job holds its slot while a job of its own is alive at Zoho (see `creates` for Zoho's own
count, which includes jobs zsync doesn't know about).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType


class JobSlot:
    """A job's way into its organisation's semaphore; `on_first` runs the first time the
    job holds it (the job turns from queued to running)."""

    def __init__(self, semaphore: asyncio.Semaphore, on_first: Callable[[], None]) -> None:
        self.semaphore = semaphore
        self.on_first = on_first
        self.held = False

    async def __aenter__(self) -> JobSlot:
        await self.semaphore.acquire()
        if not self.held:
            self.held = True
            self.on_first()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.semaphore.release()

"""A job's concurrency slot: one per organisation, product and direction, shared by every
runner on the state store.

A job holds its slot while a job of its own is alive at Zoho (see `creates` for Zoho's own
count, which includes jobs zsync doesn't know about). Within a run, a semaphore per slot keeps
to the cap; across runners on one store (zsync.state.sharing), each held slot is also a lease
row, taken in a transaction before the create call and renewed while the Zoho job lives, so
several zsync processes never exceed an organisation's cap together.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType

from zsync.background import beside
from zsync.durations import parse_duration
from zsync.errors import ConfigError, StateError
from zsync.state.sharing import LEASE_TTL, LEASE_TTL_VARIABLE
from zsync.state.store import StateStore

FIRST_WAIT = 0.05  # seconds before asking the store again for a slot another runner holds
MAX_WAIT = 2.0


def lease_ttl(environ: Mapping[str, str] = os.environ) -> float:
    """How long a runner's slots outlive it if it crashes: LEASE_TTL, or ZSYNC_LEASE_TTL
    (a duration: 30s, 2m) where runners are known to be quick to notice their own end."""
    value = environ.get(LEASE_TTL_VARIABLE)
    if not value:
        return LEASE_TTL
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ConfigError(f"{LEASE_TTL_VARIABLE}: {exc}") from None


class SharedSlots:
    """Slots leased from the state store by one runner (`holder` names it in the rows)."""

    def __init__(self, store: StateStore, holder: str, ttl: float = LEASE_TTL) -> None:
        self.store = store
        self.holder = holder
        self.ttl = ttl
        self._held: set[str] = set()

    async def take(self, key: str, cap: int) -> str:
        """Wait until a lease of `key` is ours; returns it."""
        delay = FIRST_WAIT
        while True:
            lease = uuid.uuid4().hex
            try:
                taken = await asyncio.to_thread(
                    self.store.take_slot, key, cap, lease, self.holder, self.ttl
                )
            except BaseException:
                # Cancelled while the store may have said yes: give back what we can't know.
                with contextlib.suppress(StateError):
                    self.store.free_slot(lease)
                raise
            if taken:
                self._held.add(lease)
                return lease
            # Another runner holds the slots: ask again soon, later less often, at random
            # moments so waiting runners don't ask in step.
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(MAX_WAIT, delay * 1.5)

    async def free(self, lease: str) -> None:
        self._held.discard(lease)
        try:
            await asyncio.to_thread(self.store.free_slot, lease)
        except asyncio.CancelledError:
            with contextlib.suppress(StateError):
                self.store.free_slot(lease)
            raise

    @contextlib.asynccontextmanager
    async def renewed(self) -> AsyncIterator[None]:
        """Keep every held lease alive while the block runs (a third of their time to live
        apart: two renewals may fail before one expires)."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.ttl / 3)
                if self._held:
                    await asyncio.to_thread(self.store.renew_slots, list(self._held), self.ttl)

        async with beside(renew(), "zsync slot leases"):
            yield


class JobSlot:
    """A job's way into its slot; `on_first` runs the first time the job holds it (the job
    turns from queued to running)."""

    def __init__(
        self,
        semaphore: asyncio.Semaphore,
        on_first: Callable[[], None],
        shared: SharedSlots | None = None,
        key: str = "",
        cap: int = 0,
    ) -> None:
        self.semaphore = semaphore
        self.on_first = on_first
        self.shared = shared
        self.key = key
        self.cap = cap
        self.held = False
        self._lease: str | None = None

    async def __aenter__(self) -> JobSlot:
        await self.semaphore.acquire()
        try:
            if self.shared is not None:
                self._lease = await self.shared.take(self.key, self.cap)
        except BaseException:
            self.semaphore.release()
            raise
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
        lease, self._lease = self._lease, None
        try:
            if lease is not None and self.shared is not None:
                await self.shared.free(lease)
        finally:
            self.semaphore.release()

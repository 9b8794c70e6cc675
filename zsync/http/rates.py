"""Zoho's per-minute limits, kept on zsync's side: a request waits for room rather than
earning a 429 (which CRM follows with a minute's block).

Each limit is a window of `calls` tokens; a spent token comes back `per` seconds after its
request *ended*. A request reaches Zoho before its answer reaches zsync, so counting from the
answer keeps zsync under Zoho's count however long the request took. A 429 that gets through
anyway (another tool sharing the organisation, a stricter limit than documented) closes the
window until Zoho's block is over.

Windows are shared by every job of the run that reaches the same organisation (and, for
per-user limits, signs in with the same refresh token); with a state store, by every runner
on it too (SharedCalls: each request is also counted in the store's window of the same key,
so several zsync processes stay under Zoho's count together).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from zsync.durations import format_duration
from zsync.http.limits import limits_for, organisation_of, token_limit, user_of
from zsync.products import CallKind, RateLimit
from zsync.spec.model import Connection
from zsync.state.store import StateStore

MAX_SHARED_WAIT = 5.0  # seconds between looks at a shared window that said "not yet"


@dataclass
class RateWindow:
    """At most `calls` requests in any `per` seconds (counted from each one's end)."""

    calls: int
    per: float
    clock: Callable[[], float] = time.monotonic
    _ended: deque[float] = field(default_factory=deque)
    _in_flight: int = 0
    _closed_until: float = 0.0
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    waited: float = 0.0  # seconds requests spent waiting here
    told: bool = False  # a person was told once that requests wait here

    def _room_at(self, now: float) -> float:
        """When the next request may go: `now` if there is room already."""
        while self._ended and self._ended[0] + self.per <= now:
            self._ended.popleft()
        at = max(now, self._closed_until)
        over = self._in_flight + len(self._ended) - self.calls  # >= 0: no token left
        if over < 0:
            return at
        if self._in_flight >= self.calls:
            return float("inf")  # every token is out with a request: wait for one to end
        # Room comes when the (over+1) oldest finished requests have aged out.
        return max(at, self._ended[over] + self.per)

    async def acquire(self) -> float:
        """Wait for a token; returns how long that took."""
        async with self._changed:
            started = self.clock()
            while True:
                now = self.clock()
                at = self._room_at(now)
                if at <= now:
                    break
                timeout = None if at == float("inf") else at - now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout)
            self._in_flight += 1
            waited = self.clock() - started
            self.waited += waited
            return waited

    async def release(self) -> None:
        async with self._changed:
            self._in_flight -= 1
            self._ended.append(self.clock())
            self._changed.notify_all()

    async def close_for(self, seconds: float) -> None:
        """Zoho refused a request for being over its limit: none go for `seconds`."""
        async with self._changed:
            self._closed_until = max(self._closed_until, self.clock() + seconds)
            self._changed.notify_all()


class SharedCalls:
    """The per-minute windows every runner on the state store counts its requests in."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    async def take(self, key: str, calls: int, per: float) -> tuple[str, float]:
        """Wait for room in the shared window `key`; the call's id and the seconds waited."""
        call = uuid.uuid4().hex
        started = time.monotonic()
        while True:
            wait = await asyncio.to_thread(self.store.take_call, key, calls, per, call)
            if wait <= 0:
                return call, time.monotonic() - started
            # Another runner's call may end sooner than foreseen: look again within a while.
            await asyncio.sleep(min(wait, MAX_SHARED_WAIT))

    async def end(self, call: str) -> None:
        await asyncio.to_thread(self.store.end_call, call)


@dataclass(frozen=True)
class SharedLimit:
    key: str  # the same organisation (or user), kind and limit in every runner
    calls: int
    per: float


@dataclass(frozen=True)
class Gate:
    """The windows one kind of request of one connection passes through."""

    windows: tuple[RateWindow, ...]
    per: float | None  # the longest window: how long Zoho's 429 for it lasts
    what: str = ""  # "downloads at crm/com/1: 10 per 1m", for the notice
    shared: tuple[SharedLimit, ...] = ()
    calls: SharedCalls | None = None

    @contextlib.asynccontextmanager
    async def call(self, notice: Callable[[str], None] | None = None) -> AsyncIterator[None]:
        taken: list[RateWindow] = []
        counted: list[str] = []
        try:
            for window in self.windows:  # always in the same order: no two waits cross
                waited = await window.acquire()
                taken.append(window)
                if notice is not None and waited >= NOTICE_AFTER and not window.told:
                    window.told = True
                    notice(f"{self.what}: requests wait for Zoho's per-minute limit")
            # The run's own windows first: a runner asks the store only for what it could
            # send now, so waiting requests don't fill the store's log.
            for limit in self.shared if self.calls is not None else ():
                assert self.calls is not None
                call, waited = await self.calls.take(limit.key, limit.calls, limit.per)
                counted.append(call)
                if notice is not None and waited >= NOTICE_AFTER:
                    notice(
                        f"{self.what}: requests wait for Zoho's per-minute limit, which "
                        "other runners on the state store are using"
                    )
            yield
        finally:
            for call in counted:
                assert self.calls is not None
                with contextlib.suppress(Exception):  # the window forgets it in `per` anyway
                    await self.calls.end(call)
            for window in taken:
                await window.release()

    async def refused(self, seconds: float | None) -> None:
        wait = seconds if seconds is not None else self.per
        if wait is not None:
            for window in self.windows:
                await window.close_for(wait)


OPEN_GATE = Gate((), None)
NOTICE_AFTER = 5.0  # seconds a request waits for its window before a person is told


class Rates:
    """The run's rate windows, keyed by organisation (or user) and kind of request."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, shared: SharedCalls | None = None
    ) -> None:
        self.clock = clock
        self.shared = shared
        self._windows: dict[tuple[str, str, int, float], RateWindow] = {}

    def token_gate(self, connection: Connection, accounts: str) -> Gate:
        """The window of access tokens issued for the connection's refresh token (at
        `accounts`, its accounts host), shared with every runner on the state store."""
        limit = token_limit(connection)
        if limit is None:
            return OPEN_GATE
        what = (
            f"access tokens of connection '{connection.name}' ({limit.calls} per "
            f"{format_duration(limit.per)} per refresh token)"
        )
        holder = f"tokens/{accounts}/user:{user_of(connection)}"
        return self._gate([holder], "token", [limit], what)

    def gate(self, connection: Connection, kind: CallKind) -> Gate:
        limits = limits_for(connection, kind)
        if not limits:
            return OPEN_GATE
        shown = ", ".join(
            f"{limit.calls} per {format_duration(limit.per)} per {limit.scope}" for limit in limits
        )
        organisation = organisation_of(connection)
        what = f"{kind} requests at {organisation} ({shown})"
        holders = [
            f"{organisation}/user:{user_of(connection)}" if limit.scope == "user" else organisation
            for limit in limits
        ]
        return self._gate(holders, kind, limits, what)

    def _gate(
        self, holders: Sequence[str], kind: str, limits: Sequence[RateLimit], what: str
    ) -> Gate:
        """A gate through one window per limit (`holders[i]` is whose limit i is), each the
        run's own for its key, and counted in the store's too."""
        windows, shared = [], []
        for holder, limit in zip(holders, limits, strict=True):
            key = (holder, kind, limit.calls, limit.per)
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = RateWindow(limit.calls, limit.per, self.clock)
            windows.append(window)
            label = f"{holder} {kind} {limit.calls}/{limit.per:g}s"
            shared.append(SharedLimit(label, limit.calls, limit.per))
        return Gate(
            tuple(windows),
            max(limit.per for limit in limits),
            what,
            tuple(shared) if self.shared else (),
            self.shared,
        )

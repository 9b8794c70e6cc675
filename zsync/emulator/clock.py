"""Emulated time: job progress, token expiry and result lifetimes all read one injectable clock.

`ScaledClock` runs `time_scale` emulated seconds per real second so an hour-long expiry is
testable in a second; `ManualClock` only moves when a test says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Emulated wall-clock time in epoch seconds."""

    def now(self) -> float: ...

    def real_seconds(self, emulated: float) -> float:
        """How long `emulated` seconds last in real time (for Retry-After and sleeps)."""
        ...


class ScaledClock:
    def __init__(
        self,
        time_scale: float = 1.0,
        start: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = time_scale
        self._monotonic = monotonic
        self._t0 = monotonic()
        self._start = time.time() if start is None else start

    def now(self) -> float:
        return self._start + (self._monotonic() - self._t0) * self.time_scale

    def real_seconds(self, emulated: float) -> float:
        return emulated / self.time_scale

    def jump(self, seconds: float) -> None:
        """Move emulated time on by `seconds` at once (a testing aid: what a run resumed
        hours later meets, such as results and summaries Zoho no longer keeps)."""
        self._start += seconds


class ManualClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def real_seconds(self, emulated: float) -> float:
        return 0.0


def iso(ts: float) -> str:
    """CRM/Bigin timestamps: ISO 8601 with offset and no fraction ("2021-02-22T18:00:28+00:00")."""
    return datetime.fromtimestamp(int(ts), UTC).isoformat()


def creator_time(ts: float) -> str:
    """Creator's "06-Sep-2021 16:47:18" [seed 004]."""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%d-%b-%Y %H:%M:%S")


def analytics_time(ts: float) -> str:
    """Analytics replies carry epoch milliseconds as a string [doc?]."""
    return str(int(ts * 1000))

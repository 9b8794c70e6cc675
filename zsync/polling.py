"""Waiting for a Zoho job: when to check its status, learning from how long its kind took.

Ages are seconds since the create call answered. Without history, the first check comes at
`poll.first`, then each wait is half the age so far (with a random phase, so a job's length
never lines up badly with the checks run after run), up to `poll.max`. A job finishing at
age T is then seen about 22 % of T later (median: sqrt(1.5) - 1), after about
1 + log(T/first)/log(1.5) checks: 13 for two minutes. Seeing jobs a quarter of their age
late in at most 10 checks for two minutes can't both hold (that needs a growth of at least
1.72, which is seen 31 % late): freshness wins; history brings it to two or three checks.

With history (`Expectation`: the durations of earlier jobs of the same kind, this run's
included), the checks go where the job should end: at the shortest duration seen, then a
step apart (half the range seen, at least 3 % of the duration) to the longest, then two more
steps, then growing as without history. A job as long as its kind has been is seen within a
step (about 4 % of its age for durations within ±10 %), in two or three checks.

Each check that finds the job unfinished raises the lower bound of its duration; the one
that finds it finished is the upper bound; the pair is what the next run learns from.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from zsync.providers.base import TERMINAL, State
from zsync.spec.model import Poll

POLL_GROWTH = 1.5
EXTRA_STEPS = 2  # checks at the learned step past the longest duration seen, before growing
MIN_STEP_SHARE = 0.03  # of the expected duration
MIN_STEP = 0.01  # seconds


class Checked(Protocol):
    @property
    def state(self) -> State: ...

    @property
    def remote(self) -> str: ...


C = TypeVar("C", bound=Checked)


@dataclass(frozen=True)
class Expectation:
    """When jobs of a kind have finished: `low` to `high` seconds after their create."""

    low: float
    high: float

    @classmethod
    def of(cls, durations: Sequence[tuple[float | None, float]]) -> Expectation | None:
        """From (lower, upper) bounds of past durations; None without any.

        The quickest job took at most the least upper bound; the slowest took more than the
        greatest lower bound. Between the two (in whichever order they come) is where jobs
        of the kind end: wide when durations vary, narrow when they don't, however coarse
        each job's own bounds were."""
        uppers = sorted(upper for _, upper in durations)
        if not uppers:
            return None
        # Jobs that were all done at their first check say nothing of how quick they can
        # be: half the time is checked next, and so on, until one is seen unfinished.
        lowers = sorted(lower for lower, _ in durations if lower is not None) or [uppers[0] / 2]
        # With enough of them, one outlier each way (a job queued behind others) is ignored.
        quick = uppers[1] if len(uppers) >= 5 else uppers[0]
        slow = lowers[-2] if len(lowers) >= 5 else lowers[-1]
        return cls(min(quick, slow), max(quick, slow))

    @property
    def step(self) -> float:
        return max((self.high - self.low) / 2, MIN_STEP_SHARE * self.high, MIN_STEP)


def check_ages(poll: Poll, expected: Expectation | None, rng: random.Random) -> Iterator[float]:
    """The ages at which to check a job, in order, forever."""
    if expected is None:
        age = poll.first
        yield age
        # A random phase: the next check somewhere within one growth step, then geometric.
        age = min(age * POLL_GROWTH ** rng.random(), age + poll.max)
        step = 0.0
    else:
        # A step apart, ending at the longest duration seen (a job that long is seen there);
        # at least one check before it, whose answer narrows the estimate either way.
        step = min(expected.step, poll.max)  # durations that vary widely: never past max
        before = max(1, math.floor((expected.high - expected.low) / step + 1e-9))
        age = max(expected.high - before * step, MIN_STEP)
        while age < expected.high + EXTRA_STEPS * step - 1e-9:
            yield age
            age += step
    while True:
        yield age
        if expected is None:
            step = age * (POLL_GROWTH - 1)
        else:
            # Past what history foresaw, the step grows back to the schedule without it.
            step = min(step * POLL_GROWTH, age * (POLL_GROWTH - 1))
        age += min(poll.max, max(step, MIN_STEP))


@dataclass
class Timed:
    """What polling saw of one job's duration: unfinished at `lower`, finished at `upper`."""

    lower: float | None = None
    upper: float | None = None


async def poll_until_done(
    check: Callable[[], Awaitable[C]],
    poll: Poll,
    seen: Callable[[C], None],
    expected: Expectation | None = None,
    timed: Timed | None = None,
    rng: random.Random | None = None,
    waiting: Callable[[float], None] | None = None,
) -> C:
    """Check at `check_ages` until the remote job reaches a terminal state; `seen` records
    every answer, `timed` (if given) gets the bounds of the job's duration, `waiting` is told
    how long until each next check (progress says so)."""
    started = time.monotonic()
    for age in check_ages(poll, expected, rng or random.Random()):
        wait = started + age - time.monotonic()
        if wait > 0:
            if waiting is not None:
                waiting(wait)
            await asyncio.sleep(wait)
        asked = time.monotonic() - started
        status = await check()
        seen(status)
        if status.state in TERMINAL:
            if timed is not None:
                timed.upper = asked
            return status
        if timed is not None:
            timed.lower = asked
    raise AssertionError("check_ages never ends")  # pragma: no cover

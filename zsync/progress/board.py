"""Where each job of a run stands right now: what the live view draws and heartbeats tell.

Updated by the jobs' lifecycles through JobProgress; read by the displays a few times a
second. Only running jobs are walked, so a run of thousands costs what its live jobs cost.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from zsync.progress.events import as_size


@dataclass(slots=True)
class Activity:
    name: str
    status: str = "queued"  # queued, running, then the job's end status
    started: float | None = None  # monotonic, when it took its slot
    phase: str = "starting"  # creating, waiting for Zoho, downloading, importing, ...
    remote_state: str | None = None  # Zoho's own word for the job's state (IN PROGRESS)
    waiting_since: float | None = None  # monotonic, when the current Zoho job was created
    next_check: float | None = None  # monotonic, when its state is asked next
    checks: int = 0
    page: int | None = None
    part: tuple[int, int] | None = None  # (number, of)
    rows: int | None = None
    size: Callable[[], int] | None = None  # bytes so far of a transfer under way
    said: float = 0.0  # monotonic: the last line about it (heartbeats count from here)

    def where(self) -> str:
        """Page or part, rows or bytes so far: the live view's progress column."""
        words = []
        if self.part is not None:
            words.append(f"part {self.part[0]}/{self.part[1]}")
        elif self.page is not None and self.page > 1:
            words.append(f"page {self.page}")
        if self.size is not None:
            words.append(as_size(self.size()))
        if self.rows is not None:
            words.append(f"{self.rows:,} rows")
        return " · ".join(words)


class Board:
    def __init__(self) -> None:
        self.jobs: dict[str, Activity] = {}
        self.running: dict[str, Activity] = {}  # in the order they started
        self.ended: Counter[str] = Counter()
        self.started = time.monotonic()

    def plan(self, names: Iterable[str], done: dict[str, str]) -> None:
        """The run's jobs; `done` maps those a resumed run keeps to their status."""
        for name in names:
            activity = self.jobs.setdefault(name, Activity(name))
            if name in done:
                activity.status = done[name]
                self.ended[done[name]] += 1

    def activity(self, name: str) -> Activity:
        found = self.jobs.get(name)
        if found is None:
            found = self.jobs[name] = Activity(name)
        return found

    def start(self, name: str, now: float) -> Activity:
        activity = self.activity(name)
        activity.status, activity.started, activity.said = "running", now, now
        self.running[name] = activity
        return activity

    def end(self, name: str, status: str) -> Activity:
        activity = self.activity(name)
        if activity.status not in ("queued", "running"):
            self.ended[activity.status] -= 1  # ended twice (a resumed job): count it once
        activity.status = status
        activity.size = None
        self.running.pop(name, None)
        self.ended[status] += 1
        return activity

    @property
    def queued(self) -> int:
        return len(self.jobs) - len(self.running) - sum(self.ended.values())

    def counts(self) -> str:
        """queued 12 · running 3 · done 85/100 (2 failed)"""
        done = sum(self.ended.values())
        bad = [
            f"{n} {status.replace('_', ' ')}"
            for status, n in sorted(self.ended.items())
            if n and status != "succeeded"
        ]
        text = f"queued {self.queued} · running {len(self.running)} · done {done}/{len(self.jobs)}"
        return text + (f" ({', '.join(bad)})" if bad else "")

"""A bulk job's life on the emulated clock, computed on demand rather than by background tasks.

A job is ADDED for `wait` seconds, QUEUED for `wait` more, RUNNING for rows / speed, then
COMPLETED (or FAILED when a fault asked for it). Nothing runs in the background: every status
request derives the phase from the clock, so no task can leak and replays are deterministic.
Products translate `Phase` into their own spelling (ADDED/QUEUED/IN PROGRESS, 1001/1002/1004,
In-progress/Completed).
"""

from __future__ import annotations

import enum
import heapq
from dataclasses import dataclass, field
from typing import Any


class Phase(enum.Enum):
    ADDED = "added"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (Phase.COMPLETED, Phase.FAILED)


@dataclass
class Timeline:
    created: float
    wait: float  # emulated seconds in each of ADDED and QUEUED
    run: float  # emulated seconds RUNNING
    fails: bool = False

    @classmethod
    def for_rows(
        cls, created: float, rows: int, speed: float, wait: float, fails: bool = False
    ) -> Timeline:
        return cls(created, wait, max(rows / speed, 0.001), fails)

    @property
    def finished_at(self) -> float:
        return self.created + 2 * self.wait + self.run

    def phase(self, now: float) -> Phase:
        elapsed = now - self.created
        if elapsed < self.wait:
            return Phase.ADDED
        if elapsed < 2 * self.wait:
            return Phase.QUEUED
        if elapsed < 2 * self.wait + self.run:
            return Phase.RUNNING
        return Phase.FAILED if self.fails else Phase.COMPLETED


@dataclass
class Job:
    """What every product's job shares: identity, owner org, kind and timeline."""

    id: str
    org: str
    kind: str  # crm.read, bigin.read, crm.write, analytics.export, analytics.import, creator.read
    timeline: Timeline
    definition: dict[str, Any] = field(default_factory=dict)

    def phase(self, now: float) -> Phase:
        return self.timeline.phase(now)


class JobBook:
    """All jobs of one emulator, with the concurrency bookkeeping the limits and tests need."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.peaks: dict[tuple[str, str], int] = {}
        # Per (org, kind): when each unfinished job ends, soonest first. A timeline is fixed
        # once its job is added, so counting the active ones never scans the finished ones.
        self._ends: dict[tuple[str, str], list[float]] = {}

    def active(self, org: str, kind: str, now: float) -> int:
        """Jobs of `kind` in `org` not yet terminal at `now` — what a concurrency cap counts."""
        ends = self._ends.get((org, kind), [])
        while ends and ends[0] <= now:
            heapq.heappop(ends)
        return len(ends)

    def add(self, job: Job, now: float) -> None:
        self.jobs[job.id] = job
        heapq.heappush(self._ends.setdefault((job.org, job.kind), []), job.timeline.finished_at)
        # Concurrency only rises at a create, so sampling here sees every peak.
        key = (job.org, job.kind)
        self.peaks[key] = max(self.peaks.get(key, 0), self.active(job.org, job.kind, now))

    def get(self, job_id: str, kind: str | tuple[str, ...]) -> Job | None:
        job = self.jobs.get(job_id)
        kinds = (kind,) if isinstance(kind, str) else kind
        return job if job is not None and job.kind in kinds else None

"""What a run says as it goes: events, each about the run or one job, at a level.

Every display (plain lines, JSON lines, the live view) is fed the same events; `-q` and `-v`
only move the level below which they are dropped.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Level = Literal["debug", "info", "warning", "error"]
LEVELS: Mapping[Level, int] = {"debug": 10, "info": 20, "warning": 30, "error": 40}

# Kinds that describe where a job is rather than a change: the live view shows them in its
# table instead of as lines.
STANDING_KINDS = frozenset({"job.heartbeat", "job.checked", "run.heartbeat"})


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # "run.note", "job.started", "job.created", "job.succeeded", "job.heartbeat", ...
    message: str  # for people, without the job's name
    job: str | None = None
    level: Level = "info"
    elapsed: float = 0.0  # seconds since the run started
    at: float = field(default_factory=time.time)  # wall clock
    data: Mapping[str, object] = field(default_factory=dict)  # for --log-format json

    @property
    def line(self) -> str:
        return f"{self.job}: {self.message}" if self.job else self.message


def as_words(seconds: float) -> str:
    """A duration as a person reads it in a log line: 45s, 12m, 1h05m."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m" if minutes >= 10 or not seconds else f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def as_clock(seconds: float) -> str:
    """Elapsed time for a table column: 0:07, 12:40, 1:02:03."""
    seconds = max(0, int(seconds))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def as_size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")

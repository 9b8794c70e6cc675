"""A run's progress: every event goes on the board and to one display, written in batches.

A run of thousands of jobs says several things per job; writing each as it comes costs the
event loop a system call, and a wait for the GIL when threads are busy. Displays gather what
they are shown and write every PROGRESS_EVERY seconds, and whatever is left when the run
ends, with every secret masked (zsync.redact). Heartbeats come from here, whatever the
display: a job that said nothing for `heartbeat` seconds says where it stands, so a CI
system that kills silent steps doesn't kill a run waiting on a slow Zoho job.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Protocol

from zsync.background import beside
from zsync.progress.board import Activity, Board
from zsync.progress.events import LEVELS, Event, Level, as_size, as_words
from zsync.progress.jobs import JobProgress

PROGRESS_EVERY = 0.1  # seconds: sooner than a person notices
HEARTBEAT_EVERY = 60.0  # seconds of silence before a job says where it stands
BEAT_CHECK_EVERY = 1.0  # seconds between looks for jobs that are due a heartbeat


class Display(Protocol):
    def show(self, event: Event) -> None:
        """Take an event (on the event loop: gather it, write it at the next tick)."""

    def tick(self, board: Board) -> None:
        """Write what was gathered, redraw what is drawn."""

    def close(self, board: Board) -> None:
        """The run is over: write the rest, and a summary if the display has one."""


class Progress:
    def __init__(
        self,
        display: Display | None = None,
        *,
        level: Level = "info",
        heartbeat: float = HEARTBEAT_EVERY,
    ) -> None:
        if display is None:
            from zsync.progress.plain import PlainLines

            display = PlainLines()
        self.began = time.monotonic()
        self.board = Board()
        self.display = display
        self.threshold = LEVELS[level]
        self.heartbeat = heartbeat
        self._next_look = self.began + min(heartbeat, BEAT_CHECK_EVERY)
        self._next_run_beat = self.began + heartbeat

    def __call__(self, message: str) -> None:
        """A line about the run (the reporter's old shape: runs, sessions and tests use it)."""
        self.emit("run.note", message)

    def warn(self, message: str) -> None:
        self.emit("run.note", message, level="warning")

    def emit(
        self,
        kind: str,
        message: str,
        *,
        job: str | None = None,
        level: Level = "info",
        **data: object,
    ) -> None:
        if LEVELS[level] < self.threshold:
            return
        now = time.monotonic()
        if job is not None and (activity := self.board.jobs.get(job)) is not None:
            activity.said = now
        self.display.show(Event(kind, message, job, level, now - self.began, data=data))

    # -- jobs ----------------------------------------------------------------------------

    def plan(self, names: Iterable[str], done: Mapping[str, str]) -> None:
        self.board.plan(names, dict(done))

    def job(self, name: str) -> JobProgress:
        return JobProgress(name, self.emit, self.board.activity(name))

    def started(self, name: str, message: str) -> None:
        self.board.start(name, time.monotonic())
        self.emit("job.started", message, job=name)

    def ended(self, name: str, status: str, message: str, **data: object) -> None:
        activity = self.board.end(name, status)
        level: Level = "info" if status in ("succeeded", "skipped") else "error"
        if status in ("completed_with_errors", "cancelled", "timed_out"):
            level = "warning"
        if activity.started is not None and status != "skipped":
            data.setdefault("seconds", round(time.monotonic() - activity.started, 3))
        self.emit(f"job.{status}", message, job=name, level=level, **data)

    # -- time ----------------------------------------------------------------------------

    def tick(self) -> None:
        now = time.monotonic()
        if now >= self._next_look:
            self._next_look = now + min(self.heartbeat, BEAT_CHECK_EVERY)
            self._beat(now)
        self.display.tick(self.board)

    def _beat(self, now: float) -> None:
        for activity in list(self.board.running.values()):
            if now - activity.said >= self.heartbeat:
                self.emit(
                    "job.heartbeat",
                    _standing(activity, now),
                    job=activity.name,
                    phase=activity.phase,
                    remote_state=activity.remote_state,
                    elapsed=round(now - (activity.started or now), 3),
                )
        board = self.board
        if now >= self._next_run_beat:
            self._next_run_beat = now + self.heartbeat
            if board.running or board.queued:
                self.emit(
                    "run.heartbeat",
                    f"{board.counts()}; {as_words(now - self.began)} in",
                    queued=board.queued,
                    running=len(board.running),
                    ended=dict(board.ended),
                )

    def flush(self) -> None:
        self.display.tick(self.board)

    @contextlib.asynccontextmanager
    async def written(self) -> AsyncIterator[None]:
        """Write and redraw every PROGRESS_EVERY seconds while the block runs; close the
        display (its summary) when it ends."""

        async def keep_writing() -> None:
            while True:
                await asyncio.sleep(PROGRESS_EVERY)
                self.tick()

        try:
            async with beside(keep_writing(), "zsync progress"):
                yield
        finally:
            self.display.close(self.board)


def _standing(activity: Activity, now: float) -> str:
    """still IN PROGRESS after 12m, next check in 40s"""
    if activity.waiting_since is not None and activity.phase == "waiting for Zoho":
        text = f"still {activity.remote_state or 'waiting for Zoho'} after "
        text += as_words(now - activity.waiting_since)
    else:
        text = f"still {activity.phase} after {as_words(now - (activity.started or now))}"
    if activity.next_check is not None and activity.next_check > now:
        text += f", next check in {as_words(activity.next_check - now)}"
    if activity.size is not None:
        text += f", {as_size(activity.size())} so far"
    return text

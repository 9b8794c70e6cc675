"""What one job's lifecycle tells about itself: lines for people, and where it stands.

A JobProgress is callable with a message, like the plain reporters it replaces; its other
methods move the job on the board without printing (a page begun, Zoho's answer to a status
check, bytes so far), so a live view and the heartbeats can say where a quiet job is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from zsync.progress.board import Activity
from zsync.progress.events import Level, as_words


class Emit(Protocol):
    def __call__(
        self,
        kind: str,
        message: str,
        *,
        job: str | None = None,
        level: Level = "info",
        **data: object,
    ) -> None: ...


def _nowhere(
    kind: str, message: str, *, job: str | None = None, level: Level = "info", **data: object
) -> None:
    pass


class JobProgress:
    __slots__ = ("_emit", "activity", "name")

    def __init__(self, name: str, emit: Emit, activity: Activity) -> None:
        self.name = name
        self.activity = activity
        self._emit = emit

    @classmethod
    def silent(cls, name: str = "job") -> JobProgress:
        """For a lifecycle run on its own (tests, benches): tells no one."""
        return cls(name, _nowhere, Activity(name))

    def __call__(self, message: str, level: Level = "info") -> None:
        self._emit("job.note", message, job=self.name, level=level)

    def phase(self, text: str) -> None:
        """The job moved on to something else (creating, downloading, importing part 2)."""
        activity = self.activity
        activity.phase, activity.size = text, None
        activity.remote_state = activity.next_check = None

    def created(self, message: str, remote_id: str) -> None:
        """A Zoho job was created (or one of an earlier try taken up): now it is waited for."""
        self.phase("waiting for Zoho")
        self.activity.waiting_since = time.monotonic()
        self._emit("job.created", message, job=self.name, remote_id=remote_id)

    def page(self, number: int | None) -> None:
        self.activity.page = number

    def part(self, number: int, of: int) -> None:
        self.activity.part = (number, of)
        self.phase(f"importing part {number}/{of}")

    def rows(self, count: int | None) -> None:
        if count is not None:
            self.activity.rows = count

    def transferring(self, size: Callable[[], int], what: str = "downloading") -> None:
        """A transfer began; `size` says how many bytes it moved so far, when asked."""
        self.phase(what)
        self.activity.size = size

    def checked(self, remote_state: str) -> None:
        """Zoho answered a status check."""
        activity = self.activity
        activity.remote_state = remote_state
        activity.checks += 1

    def next_check(self, wait: float) -> None:
        """The next status check is `wait` seconds away (said with -v)."""
        activity = self.activity
        activity.next_check = time.monotonic() + wait
        self._emit(
            "job.checked",
            f"{activity.remote_state or 'not done'} (check {activity.checks}); "
            f"next check in {as_words(wait)}",
            job=self.name,
            level="debug",
            remote_state=activity.remote_state,
            next_check_in=round(wait, 3),
        )

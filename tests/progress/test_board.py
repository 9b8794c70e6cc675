"""The pieces of progress on their own: words for durations, the board's counts, levels and
heartbeats (the terminal tests drive them through a real run)."""

from __future__ import annotations

import time

from zsync.progress import Progress
from zsync.progress.board import Board
from zsync.progress.events import Event, as_clock, as_size, as_words


class Shown:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def show(self, event: Event) -> None:
        self.events.append(event)

    def tick(self, board: Board) -> None:
        pass

    def close(self, board: Board) -> None:
        pass


def test_durations_read_as_a_person_says_them() -> None:
    assert [as_words(s) for s in (0, 45, 61, 720, 3900)] == ["0s", "45s", "1m01s", "12m", "1h05m"]
    assert [as_clock(s) for s in (7, 760, 3723)] == ["0:07", "12:40", "1:02:03"]
    assert [as_size(n) for n in (999, 12_400_000)] == ["999 B", "12.4 MB"]


def test_the_board_counts_queued_running_and_ended_jobs() -> None:
    board = Board()
    board.plan(["a", "b", "c", "d"], {"d": "succeeded"})
    board.start("a", time.monotonic())
    board.start("b", time.monotonic())
    board.end("b", "failed")
    assert board.counts() == "queued 1 · running 1 · done 2/4 (1 failed)"
    board.end("b", "succeeded")  # a job that ends again (resumed) is counted once
    assert board.counts() == "queued 1 · running 1 · done 2/4"


def test_levels_drop_what_is_below_the_threshold() -> None:
    shown = Shown()
    progress = Progress(shown, level="warning")
    progress.plan(["a"], {})
    progress.started("a", "started")
    progress.job("a").next_check(5)
    progress.ended("a", "failed", "failed: no")
    assert [(e.kind, e.level) for e in shown.events] == [("job.failed", "error")]


def test_a_silent_running_job_gets_a_heartbeat_with_zoho_s_state() -> None:
    shown = Shown()
    progress = Progress(shown, heartbeat=0.05)
    progress.plan(["a", "b"], {})
    progress.started("a", "started")
    job = progress.job("a")
    job.created("created CRM job 1", "1")
    job.checked("IN PROGRESS")
    job.next_check(30)
    time.sleep(0.06)
    progress.tick()
    beats = [e for e in shown.events if e.kind.endswith("heartbeat")]
    assert [e.line for e in beats] == [
        "a: still IN PROGRESS after 0s, next check in 30s",
        "queued 1 · running 1 · done 0/2; 0s in",
    ]
    progress.tick()  # just said: no second heartbeat yet
    assert len([e for e in shown.events if e.kind.endswith("heartbeat")]) == 2

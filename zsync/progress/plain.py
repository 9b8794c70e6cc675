"""Plain progress lines for logs and CI: one timestamped line per event, no escape codes.

    [16:30:01 +12.3s] crm_contacts: created CRM job 5409 (page 2)

Needs nothing beyond the standard library: this is what runs where no one watches a screen.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from zsync import redact
from zsync.progress.board import Board
from zsync.progress.events import Event


class PlainLines:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._lines: list[str] = []
        self._second = -1
        self._clock = ""

    def show(self, event: Event) -> None:
        second = int(event.at)
        if second != self._second:  # thousands of lines a second share one strftime
            self._second, self._clock = second, time.strftime("%H:%M:%S", time.localtime(second))
        self._lines.append(f"[{self._clock} +{event.elapsed:.1f}s] {event.line}\n")

    def tick(self, board: Board) -> None:
        if self._lines:
            text, self._lines = "".join(self._lines), []
            stream = self.stream or sys.stderr  # looked up late: tests swap sys.stderr
            stream.write(redact.text(text))  # once per batch: cheap
            stream.flush()

    def close(self, board: Board) -> None:
        self.tick(board)

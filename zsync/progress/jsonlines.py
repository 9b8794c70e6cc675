"""`--log-format json`: one JSON object per event on stderr, for log collectors.

    {"time": "2026-11-24T16:30:01.123Z", "elapsed": 12.3, "level": "info",
     "event": "job.created", "job": "crm_contacts", "message": "created CRM job 5409",
     "remote_id": "5409"}

The keys `time`, `elapsed`, `level`, `event` and `message` are always there; `job` when the
event is about one; the rest depend on the event. Secrets are masked as in every output.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from zsync import redact
from zsync.progress.board import Board
from zsync.progress.events import Event, Level


class JsonLines:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._lines: list[str] = []

    def show(self, event: Event) -> None:
        record: dict[str, Any] = {
            "time": _iso(event.at),
            "elapsed": round(event.elapsed, 3),
            "level": event.level,
            "event": event.kind,
            "message": event.message,
        }
        if event.job is not None:
            record["job"] = event.job
        for key, value in event.data.items():
            record.setdefault(key, value)
        self._lines.append(json.dumps(redact.scrub(record), default=str) + "\n")

    def tick(self, board: Board) -> None:
        if self._lines:
            text, self._lines = "".join(self._lines), []
            stream = self.stream or sys.stderr
            stream.write(redact.text(text))
            stream.flush()

    def close(self, board: Board) -> None:
        self.tick(board)


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"


def log_line(kind: str, message: str, level: Level = "info", **data: object) -> None:
    """One event written at once, outside a run's progress (before it starts, after it
    failed to)."""
    lines = JsonLines()
    lines.show(Event(kind, message, level=level, data=data))
    lines.tick(Board())

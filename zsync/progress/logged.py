"""Progress as records of the `zsync` logger, for programs that call zsync (zsync.api):
Airflow, Dagster and most services collect Python's logging already.

Each record carries the event's kind, job and data as `zsync_event`, `zsync_job` and
`zsync_data` attributes, for handlers that keep structure.
"""

from __future__ import annotations

import logging

from zsync import redact
from zsync.progress.board import Board
from zsync.progress.events import Event

LOGGER = logging.getLogger("zsync")
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class LoggedLines:
    def __init__(self, logger: logging.Logger = LOGGER) -> None:
        self.logger = logger

    def show(self, event: Event) -> None:
        self.logger.log(
            _LEVELS[event.level],
            "%s",
            redact.text(event.line),
            extra={
                "zsync_event": event.kind,
                "zsync_job": event.job,
                "zsync_data": redact.scrub(dict(event.data)),
            },
        )

    def tick(self, board: Board) -> None:
        pass

    def close(self, board: Board) -> None:
        pass

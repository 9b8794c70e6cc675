"""A run's progress, as people and tools see it: a live view on a terminal, plain
timestamped lines in CI and logs, or JSON lines (`--log-format json`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Literal, TextIO

from zsync.progress.events import Event, Level
from zsync.progress.hub import HEARTBEAT_EVERY, Display, Progress
from zsync.progress.jobs import JobProgress

LogFormat = Literal["text", "json"]

__all__ = [
    "HEARTBEAT_EVERY",
    "Display",
    "Event",
    "JobProgress",
    "Level",
    "LogFormat",
    "Progress",
    "display_for",
    "wants_live_view",
]


def wants_live_view(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """A person watches a terminal: not CI (which sets CI), not a dumb terminal."""
    if environ.get("CI", "").lower() not in ("", "0", "false"):
        return False
    if environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def display_for(
    log_format: LogFormat,
    *,
    quiet: bool = False,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> Display:
    """The display for this terminal and these options (the live view needs rich; where it
    is missing, plain lines do)."""
    stream = stream or sys.stderr
    environ = os.environ if environ is None else environ
    if log_format == "json":
        from zsync.progress.jsonlines import JsonLines

        return JsonLines(stream)
    if not quiet and wants_live_view(stream, environ):
        try:
            from zsync.progress.live import LiveView
        except ImportError:
            pass
        else:
            return LiveView(stream)
    from zsync.progress.plain import PlainLines

    return PlainLines(stream)

"""Durations as job files write them: 500ms, 10s, 5m, 2h, 1h30m, or a number of seconds."""

from __future__ import annotations

import math
import re

_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# No wait in a run is longer; past it a number is a typo (or 400 nines that sum to inf).
MAX_SECONDS = 365 * 86400.0


class DurationTooLong(ValueError):
    """A duration past MAX_SECONDS: written correctly, but not meant."""


def parse_duration(value: str | float) -> float:
    """Seconds in `value`; raises ValueError for text the schema's pattern would refuse, and
    DurationTooLong past a year."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not value > 0:  # also nan
            raise ValueError(f"a duration must be positive, not {value}")
        seconds = float(value)
    else:
        text = str(value).strip()
        parts = _PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"not a duration: {value!r} (expected e.g. 500ms, 10s, 5m, 2h, 1h30m)")
        seconds = sum(float(number) * _SECONDS[unit] for number, unit in parts)
    if not math.isfinite(seconds) or seconds > MAX_SECONDS:
        shown = str(value) if len(str(value)) <= 24 else f"{str(value)[:24]}…"
        raise DurationTooLong(f"{shown} is longer than zsync waits for anything (at most 365d)")
    return seconds


def format_duration(seconds: float) -> str:
    """The way a job file would write it: 500ms, 10s, 1m, 1m30s, 2h."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    if seconds < 60 or seconds != int(seconds):
        return f"{seconds:g}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m"), (secs, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n)

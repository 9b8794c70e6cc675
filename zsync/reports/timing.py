"""Durations between the manifest's timestamps (2026-01-31T12:00:00.123456Z)."""

from __future__ import annotations

from datetime import datetime


def seconds_between(started: str | None, ended: str | None) -> float:
    """0 when either end is unknown: a job that never started took no time."""
    if not started or not ended:
        return 0.0
    try:
        return max(0.0, (_parse(ended) - _parse(started)).total_seconds())
    except ValueError:
        return 0.0


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))

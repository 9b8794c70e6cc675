"""When and how long to wait before trying a request again."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_DELAY = 60.0


def backoff(attempt: int, base: float, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [base/2, base * 2**(attempt-1)]."""
    ceiling = min(MAX_DELAY, base * 2 ** max(attempt - 1, 0))
    return (rng or random).uniform(min(base / 2, ceiling), ceiling)


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date); None if absent/unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, min(float(value), MAX_DELAY * 5))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())

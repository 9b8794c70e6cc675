"""Durations as job files write them: 500ms, 10s, 5m, 2h, 1h30m, or a number of seconds."""

from __future__ import annotations

import re

_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: str | float) -> float:
    """Seconds in `value`; raises ValueError for text the schema's pattern would refuse."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"a duration must be positive, not {value}")
        return float(value)
    text = str(value).strip()
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {value!r} (expected e.g. 500ms, 10s, 5m, 2h, 1h30m)")
    return sum(float(number) * _SECONDS[unit] for number, unit in parts)

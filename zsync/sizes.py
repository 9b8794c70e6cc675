"""Sizes as job files write them: 512KiB, 100MB, 2GiB, or a number of bytes."""

from __future__ import annotations

import re

_SIZE = re.compile(r"([0-9]{1,15}(?:\.[0-9]{1,6})?) ?([KMGT]i?B|B)")
_UNITS = {"B": 1, **{f"{p}B": 1000 ** (i + 1) for i, p in enumerate("KMGT")}}
_UNITS.update({f"{p}iB": 1024 ** (i + 1) for i, p in enumerate("KMGT")})


def parse_size(value: str | int) -> int:
    """Bytes in `value`; raises ValueError for text the schema's pattern would refuse."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError(f"a size must be positive, not {value}")
        return value
    match = _SIZE.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"not a size: {value!r} (expected e.g. 100MB, 512KiB, 2GiB)")
    return max(1, int(float(match.group(1)) * _UNITS[match.group(2)]))


def human_bytes(size: int) -> str:
    """`size` bytes for a person: 512 B, 20.0 MiB, 1.5 GiB."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"

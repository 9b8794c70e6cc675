"""LocalStack-style snapshot comparison: replies vs the seeds' sample replies, key by key.

Values that always differ (ids, timestamps, URLs, counts, names) are transformed into their
kind ("<id>", "<iso-time>", "<path>" …) so the comparison checks every key and the kind of every
value, while tests assert the literal values that must match (state, operation, code…) apart.
"""

from __future__ import annotations

import re
from typing import Any

ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
CREATOR_TIME = re.compile(r"^\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}$")


def kind(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: kind(v) for k, v in value.items()}
    if isinstance(value, list):
        return [kind(v) for v in value]
    if isinstance(value, bool):
        return "<bool>"
    if isinstance(value, int):
        return "<int>"
    if isinstance(value, float):
        return "<number>"
    if value is None:
        return "<null>"
    if re.fullmatch(r"\d{10,}", value):
        return "<id>"
    if ISO_TIME.match(value):
        return "<iso-time>"
    if CREATOR_TIME.match(value):
        return "<creator-time>"
    if value.startswith(("/", "http://", "https://")):
        return "<url>"
    return "<str>"


def assert_same_shape(actual: Any, expected: Any, path: str = "$") -> None:
    """Same keys everywhere, same kind of value at every key, same list lengths."""
    a, e = kind(actual), kind(expected)
    _compare(a, e, path)


def _compare(a: Any, e: Any, path: str) -> None:
    if isinstance(e, dict):
        assert isinstance(a, dict), f"{path}: expected an object, got {a!r}"
        extra, missing = set(a) - set(e), set(e) - set(a)
        assert not extra and not missing, f"{path}: extra keys {extra}, missing keys {missing}"
        for key in e:
            _compare(a[key], e[key], f"{path}.{key}")
    elif isinstance(e, list):
        assert isinstance(a, list), f"{path}: expected an array, got {a!r}"
        assert len(a) == len(e), f"{path}: {len(a)} items, expected {len(e)}"
        for index, (x, y) in enumerate(zip(a, e, strict=True)):
            _compare(x, y, f"{path}[{index}]")
    else:
        assert a == e, f"{path}: {a} where the sample has {e}"

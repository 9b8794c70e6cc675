"""Reading values out of Zoho's JSON replies, each checked for the type and form it must have.

A reply of the wrong shape (`details: "nope"`, an id that is an object or holds `../`,
`count: "two"`) is Zoho's fault or a hostile server's, not a bug in zsync: it becomes a
GarbageReply (a `remote` error, code BAD_REPLY) naming the field, and nothing unchecked goes
into a URL, a path or the manifest.
"""

from __future__ import annotations

import re
from typing import Any

from zsync.errors import GarbageReply

# Zoho's ids are long numbers; Creator's cursors and the emulator's ids add letters, '-', '_'.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,199}")
_SHOWN = 120


def mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(what, "an object", value)
    return value


def optional_mapping(value: Any, what: str) -> dict[str, Any]:
    """An object, or {} when it is absent (null)."""
    return {} if value is None else mapping(value, what)


def remote_id(value: Any, what: str) -> str:
    """An id safe to put into a URL path: a number, or letters, digits, '-' and '_'."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise bad(what, "an id", value)
    text = str(value)
    if not _ID.fullmatch(text):
        raise bad(what, "an id (letters, digits, '-', '_')", value)
    return text


def count(value: Any, what: str) -> int | None:
    """A number of records: a whole number >= 0 (digits in a string too), or None."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    raise bad(what, "a count", value)


def text(value: Any, what: str) -> str | None:
    """A string (numbers are spelled as strings), or None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise bad(what, "a string", value)


def flag(value: Any, what: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise bad(what, "true or false", value)


def bad(what: str, expected: str, value: Any) -> GarbageReply:
    shown = repr(value)
    if len(shown) > _SHOWN:
        shown = shown[: _SHOWN - 3] + "..."
    return GarbageReply(f"Zoho's reply has {what} = {shown}, expected {expected}")

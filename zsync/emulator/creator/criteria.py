"""Creator's criteria strings, e.g. ``(Status == "Open" && Amount > 100) || Quantity >= 5``.

Operators == != < <= > >=, `&&`/`||` (also `and`/`or`), parentheses, and
``Field.contains("x")`` / ``.startsWith`` / ``.endsWith``. Strings compare case-sensitively,
numbers numerically [doc?]. A date-time field (`Modified_Time`) compared with a quoted
`dd-MMM-yyyy HH:mm:ss` value compares as a moment, both sides parsed, never as text
(Creator's Get Records pages, zoho.com/creator/help/api/v2.1/get-records.html: criteria in
Deluge syntax, where a date-time literal is written `'10-Apr-2021 11:37:16'`; public clients
send `Modified_Time > '10-Apr-2021 11:37:16'`). Strings take double or single quotes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from zsync.emulator.data import CREATOR_DATETIME

_TOKEN = re.compile(
    r"""\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>==|!=|<=|>=|<|>|&&|\|\||\(|\)|\.|,)|(?P<id>[A-Za-z_][A-Za-z0-9_]*))"""
)


class CreatorCriteriaError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise CreatorCriteriaError(f"invalid criteria near {text[position : position + 15]!r}")
        position = match.end()
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "id" and value.lower() in ("and", "or"):
            kind, value = "op", "&&" if value.lower() == "and" else "||"
        out.append((kind, value))
    return out


def moment(text: str) -> datetime | None:
    """A Creator date-time value, or None when `text` is none."""
    try:
        return datetime.strptime(text.strip(), CREATOR_DATETIME)
    except ValueError:
        return None


def parse(text: str, known: set[str], datetimes: Collection[str] = ()) -> Any:
    """The tree of `text`; a field of `datetimes` compares as a date-time."""
    tokens = _tokens(text)
    position = 0

    def peek() -> tuple[str, str] | None:
        return tokens[position] if position < len(tokens) else None

    def take(value: str | None = None, kind: str | None = None) -> tuple[str, str]:
        nonlocal position
        tok = peek()
        if tok is None or (value and tok[1] != value) or (kind and tok[0] != kind):
            raise CreatorCriteriaError(f"invalid criteria: expected {value or kind}")
        position += 1
        return tok

    def disjunction() -> Any:
        left = conjunction()
        while peek() == ("op", "||"):
            take("||")
            left = ("or", left, conjunction())
        return left

    def conjunction() -> Any:
        left = atom()
        while peek() == ("op", "&&"):
            take("&&")
            left = ("and", left, atom())
        return left

    def literal() -> Any:
        kind, value = take()
        if kind == "num":
            return float(value)
        if kind == "str":
            quote = value[0]
            return value[1:-1].replace("\\" + quote, quote)
        raise CreatorCriteriaError("invalid criteria: a value must be a number or a string")

    def atom() -> Any:
        if peek() == ("op", "("):
            take("(")
            inner = disjunction()
            take(")")
            return inner
        field = take(kind="id")[1]
        if field not in known:
            raise CreatorCriteriaError(f"unknown field {field} in criteria")
        if peek() == ("op", "."):
            take(".")
            method = take(kind="id")[1]
            if method not in ("contains", "startsWith", "endsWith"):
                raise CreatorCriteriaError(f"unsupported function {method}")
            take("(")
            value = literal()
            take(")")
            return ("fn", field, method, value)
        op = take(kind="op")[1]
        if op not in ("==", "!=", "<", "<=", ">", ">="):
            raise CreatorCriteriaError(f"unsupported operator {op}")
        value = literal()
        if field in datetimes:
            when = moment(str(value)) if isinstance(value, str) else None
            if when is None:
                raise CreatorCriteriaError(
                    f"{field} is a date-time: compare it with 'dd-MMM-yyyy HH:mm:ss', not {value!r}"
                )
            value = when
        return ("cmp", field, op, value)

    tree = disjunction()
    if peek() is not None:
        raise CreatorCriteriaError("invalid criteria: unexpected trailing input")
    return tree


def matches(tree: Any, get: Callable[[str], Any]) -> bool:
    tag = tree[0]
    if tag == "and":
        return matches(tree[1], get) and matches(tree[2], get)
    if tag == "or":
        return matches(tree[1], get) or matches(tree[2], get)
    actual = get(tree[1])
    if tag == "fn":
        text, value = "" if actual is None else str(actual), str(tree[3])
        return {
            "contains": value in text,
            "startsWith": text.startswith(value),
            "endsWith": text.endswith(value),
        }[tree[2]]
    _, _, op, value = tree
    if isinstance(value, datetime):
        actual = moment(str(actual)) if actual is not None else None
        if actual is None:
            return op == "!="
    elif isinstance(value, float):
        try:
            actual = float(actual)
        except (TypeError, ValueError):
            return op == "!="
    else:
        actual = "" if actual is None else str(actual)
    return {
        "==": actual == value,
        "!=": actual != value,
        "<": actual < value,
        "<=": actual <= value,
        ">": actual > value,
        ">=": actual >= value,
    }[op]

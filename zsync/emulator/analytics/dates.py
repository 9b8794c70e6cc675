"""Java-style date patterns (`dd/MM/yyyy`, `dd-MMM-yyyy`, `yyyy-MM-dd HH:mm:ss`), as Analytics'
`dateFormat` takes them: parsers of one imported cell each, and formatters of one exported
date each.

Zoho documents the pattern letters of Java's SimpleDateFormat and samples `dd-MMM-YYYY`; the
common letters are supported here, and a pattern using any other letter is refused at create
rather than silently importing nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

# Longest run first within a letter: `MMMM` before `MMM` before `MM`.
_DIRECTIVES: dict[str, list[tuple[int, str]]] = {
    "y": [(4, "%Y"), (3, "%Y"), (2, "%y"), (1, "%Y")],
    # Zoho's own sample writes `YYYY`; Java's week-year differs only around New Year, and an
    # import means the calendar year.
    "Y": [(4, "%Y"), (3, "%Y"), (2, "%y"), (1, "%Y")],
    "M": [(4, "%B"), (3, "%b"), (1, "%m")],
    "d": [(1, "%d")],
    "H": [(1, "%H")],
    "k": [(1, "%H")],
    "h": [(1, "%I")],
    "m": [(1, "%M")],
    "s": [(1, "%S")],
    "S": [(1, "%f")],
    "a": [(1, "%p")],
    "E": [(4, "%A"), (1, "%a")],
    "z": [(1, "%Z")],
    "Z": [(1, "%z")],
    "X": [(1, "%z")],
}
_TIME_LETTERS = set("HkhmsSa")
_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|[^A-Za-z']+")


class DateFormatError(ValueError):
    """The pattern uses a letter this emulator does not know."""


def parser(pattern: str) -> Callable[[str], str]:
    """A function from a cell to the date as the table stores it (`yyyy-MM-dd`, with
    ` HH:mm:ss` when the pattern has a time); ValueError when the cell does not fit."""
    parts: list[str] = []
    has_time = False
    for match in _TOKEN.finditer(pattern):
        token = match.group(0)
        if token.startswith("'"):
            literal = token[1:-1].replace("''", "'") if len(token) > 2 else "'"
            parts.append(literal.replace("%", "%%"))
        elif token[0].isalpha():
            choices = _DIRECTIVES.get(token[0])
            if choices is None:
                raise DateFormatError(f"unsupported letter {token[0]!r} in dateFormat {pattern}")
            parts.append(next(code for width, code in choices if len(token) >= width))
            has_time = has_time or token[0] in _TIME_LETTERS
        else:
            parts.append(token.replace("%", "%%"))
    if not parts:
        raise DateFormatError("empty dateFormat")
    fmt = "".join(parts)
    out = "%Y-%m-%d %H:%M:%S" if has_time else "%Y-%m-%d"

    def parse(text: str) -> str:
        return datetime.strptime(text.strip(), fmt).strftime(out)

    return parse


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def formatter(pattern: str) -> Callable[[str], str]:
    """A function from a stored date (`yyyy-MM-dd`, or with ` HH:mm:ss`) to `pattern`, the
    export's `dateFormat`; English month and day names whatever the machine's locale.
    Refuses what `parser` refuses."""
    parser(pattern)  # the same letters are known, or DateFormatError
    parts: list[Callable[[datetime], str]] = []
    for match in _TOKEN.finditer(pattern):
        token = match.group(0)
        if token.startswith("'"):
            literal = token[1:-1].replace("''", "'") if len(token) > 2 else "'"
            parts.append(_constant(literal))
        elif token[0].isalpha():
            parts.append(_field(token[0], len(token)))
        else:
            parts.append(_constant(token))

    def format_date(stored: str) -> str:
        when = datetime.fromisoformat(stored)
        return "".join(part(when) for part in parts)

    return format_date


def _constant(text: str) -> Callable[[datetime], str]:
    return lambda _: text


def _field(letter: str, width: int) -> Callable[[datetime], str]:
    """One pattern letter repeated `width` times, as Java's SimpleDateFormat writes it:
    numbers padded to the width, text letters short below 4 and long from 4."""

    def number(value: Callable[[datetime], int]) -> Callable[[datetime], str]:
        return lambda when: str(value(when)).zfill(width)

    if letter in "yY":
        if width == 2:
            return lambda when: f"{when.year % 100:02d}"
        return number(lambda when: when.year)
    if letter == "M":
        if width >= 4:
            return lambda when: _MONTHS[when.month - 1]
        if width == 3:
            return lambda when: _MONTHS[when.month - 1][:3]
        return number(lambda when: when.month)
    if letter == "E":
        if width >= 4:
            return lambda when: _DAYS[when.weekday()]
        return lambda when: _DAYS[when.weekday()][:3]
    if letter == "a":
        return lambda when: "AM" if when.hour < 12 else "PM"
    if letter in "zZX":
        return lambda when: {"z": "UTC", "Z": "+0000", "X": "Z"}[letter]
    numbers: dict[str, Callable[[datetime], int]] = {
        "d": lambda when: when.day,
        "H": lambda when: when.hour,
        "k": lambda when: when.hour or 24,
        "h": lambda when: when.hour % 12 or 12,
        "m": lambda when: when.minute,
        "s": lambda when: when.second,
        "S": lambda when: when.microsecond // 1000,
    }
    return number(numbers[letter])

"""Analytics SQL functions SQLite lacks, registered on the emulator's SQL connection.

Zoho's CloudSQL takes SELECTs in the ANSI, Oracle, SQL Server, MySQL, DB2, Sybase, Informix
and PostgreSQL dialects (Analytics CloudSQL "Supported SQL" page), so a user's query may call
MySQL's `year()` or SQL Server's `len()`. SQLite already has `ifnull`, `coalesce`, `nullif`,
`upper`/`lower`, `substr`/`substring`, `trim`, `replace`, `instr`, `length`, `round`, `abs`,
`ceil`/`floor`/`power`/`sqrt`…, `strftime`/`date`; this module adds the common rest (the list
is in the emulator README). Like MySQL, a function given NULL or a value it cannot read answers
NULL instead of failing the query.

Dates are stored as ISO text (`yyyy-MM-dd`, or `yyyy-MM-dd HH:mm:ss` from an import with a
time), which sorts and compares correctly as text and is what SQLite's own date functions read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

MYSQL_FORMAT = {  # MySQL DATE_FORMAT specifiers -> strftime
    "Y": "%Y",
    "y": "%y",
    "m": "%m",
    "d": "%d",
    "H": "%H",
    "i": "%M",
    "s": "%S",
    "S": "%S",
    "M": "%B",
    "b": "%b",
    "W": "%A",
    "a": "%a",
    "p": "%p",
    "j": "%j",
    "T": "%H:%M:%S",
    "%": "%%",
}


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text[:10])
    except ValueError:
        return None


def _on_date(read: Callable[[datetime], Any]) -> Callable[[Any], Any]:
    def call(value: Any) -> Any:
        when = _when(value)
        return None if when is None else read(when)

    return call


def _shift(sign: int) -> Callable[[Any, Any], Any]:
    """ADDDATE/SUBDATE(date, days): the same shape back (a date stays a date)."""

    def call(value: Any, days: Any) -> Any:
        when = _when(value)
        if when is None or not isinstance(days, int | float):
            return None
        moved = when + timedelta(days=sign * days)
        has_time = isinstance(value, str) and len(value.strip()) > 10
        return moved.isoformat(" ") if has_time else moved.date().isoformat()

    return call


def _datediff(a: Any, b: Any) -> int | None:
    first, second = _when(a), _when(b)
    if first is None or second is None:
        return None
    return (first.date() - second.date()).days  # MySQL: days from b to a, times ignored


def _date_format(value: Any, pattern: Any) -> str | None:
    when = _when(value)
    if when is None or not isinstance(pattern, str):
        return None
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "%" and i + 1 < len(pattern):
            spec = pattern[i + 1]
            if spec == "c":
                out.append(str(when.month))
            elif spec == "e":
                out.append(str(when.day))
            elif spec == "k":
                out.append(str(when.hour))
            else:
                out.append(when.strftime(MYSQL_FORMAT.get(spec, spec)))
            i += 2
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _concat(*values: Any) -> str | None:
    if any(v is None for v in values):
        return None  # MySQL: CONCAT is NULL when any argument is
    return "".join(_text(v) for v in values)


def _concat_ws(separator: Any, *values: Any) -> str | None:
    if separator is None:
        return None
    return _text(separator).join(_text(v) for v in values if v is not None)


def _pad(left: bool) -> Callable[[Any, Any, Any], Any]:
    def call(value: Any, width: Any, fill: Any) -> Any:
        if value is None or not isinstance(width, int) or width < 0 or not fill:
            return None
        text, fill = _text(value), _text(fill)
        if len(text) >= width:
            return text[:width]
        padding = (fill * width)[: width - len(text)]
        return padding + text if left else text + padding

    return call


def _locate(needle: Any, haystack: Any) -> int | None:
    if needle is None or haystack is None:
        return None
    return _text(haystack).find(_text(needle)) + 1  # 1-based, 0 when absent (MySQL)


def _length(value: Any) -> int | None:
    return None if value is None else len(_text(value))


def register(conn: sqlite3.Connection, now: Callable[[], float]) -> list[str]:
    """Adds the functions to `conn`; returns their names (the README lists the same)."""

    def current() -> datetime:
        # The emulator's clock, so NOW() moves with emulated time like everything else.
        return datetime.fromtimestamp(now(), UTC).replace(tzinfo=None)

    fixed: dict[str, tuple[int, Callable[..., Any]]] = {
        "year": (1, _on_date(lambda d: d.year)),
        "month": (1, _on_date(lambda d: d.month)),
        "day": (1, _on_date(lambda d: d.day)),
        "dayofmonth": (1, _on_date(lambda d: d.day)),
        "quarter": (1, _on_date(lambda d: (d.month - 1) // 3 + 1)),
        "hour": (1, _on_date(lambda d: d.hour)),
        "minute": (1, _on_date(lambda d: d.minute)),
        "second": (1, _on_date(lambda d: d.second)),
        "dayofweek": (1, _on_date(lambda d: d.isoweekday() % 7 + 1)),  # 1 = Sunday (MySQL)
        "weekday": (1, _on_date(lambda d: d.weekday())),  # 0 = Monday (MySQL)
        "dayofyear": (1, _on_date(lambda d: d.timetuple().tm_yday)),
        "weekofyear": (1, _on_date(lambda d: d.isocalendar()[1])),
        "dayname": (1, _on_date(lambda d: d.strftime("%A"))),
        "monthname": (1, _on_date(lambda d: d.strftime("%B"))),
        "to_date": (1, _on_date(lambda d: d.date().isoformat())),
        "datediff": (2, _datediff),
        "adddate": (2, _shift(1)),
        "subdate": (2, _shift(-1)),
        "date_format": (2, _date_format),
        "if": (3, lambda c, a, b: a if c else b),
        "nvl": (2, lambda a, b: b if a is None else a),  # Oracle
        "lcase": (1, lambda v: None if v is None else _text(v).lower()),
        "ucase": (1, lambda v: None if v is None else _text(v).upper()),
        "len": (1, _length),  # SQL Server
        "char_length": (1, _length),
        "character_length": (1, _length),
        "reverse": (1, lambda v: None if v is None else _text(v)[::-1]),
        "locate": (2, _locate),
        "lpad": (3, _pad(left=True)),
        "rpad": (3, _pad(left=False)),
    }
    for name, (arity, function) in fixed.items():
        conn.create_function(name, arity, function, deterministic=True)
    conn.create_function("concat", -1, _concat, deterministic=True)
    conn.create_function("concat_ws", -1, _concat_ws, deterministic=True)
    conn.create_function("now", 0, lambda: current().isoformat(" ", "seconds"))
    conn.create_function("curdate", 0, lambda: current().date().isoformat())
    conn.create_function("curtime", 0, lambda: current().time().isoformat("seconds"))
    conn.create_function("today", 0, lambda: current().date().isoformat())
    return sorted({*fixed, "concat", "concat_ws", "now", "curdate", "curtime", "today"})

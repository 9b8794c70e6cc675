"""The Analytics functions added to SQLite: MySQL's answers, NULL for NULL or a non-date."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from zsync.emulator import sql_functions

NOW = datetime(2024, 2, 29, 23, 59, 58, tzinfo=UTC).timestamp()


@pytest.fixture
def conn() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    sql_functions.register(conn, lambda: NOW)
    return conn


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("year('2023-01-01')", 2023),
        ("month('2023-11-05 10:20:30')", 11),
        ("day('2023-11-05')", 5),
        ("quarter('2023-11-05')", 4),
        ("hour('2023-11-05 10:20:30')", 10),
        ("minute('2023-11-05 10:20:30')", 20),
        ("second('2023-11-05 10:20:30')", 30),
        ("dayofweek('2023-01-01')", 1),  # a Sunday
        ("weekday('2023-01-01')", 6),
        ("dayofyear('2023-02-01')", 32),
        ("weekofyear('2023-01-02')", 1),
        ("dayname('2023-01-01')", "Sunday"),
        ("monthname('2023-01-01')", "January"),
        ("to_date('2023-01-01 10:00:00')", "2023-01-01"),
        ("datediff('2023-03-01 23:00:00', '2023-02-28')", 1),
        ("datediff('2023-01-01', '2023-01-31')", -30),
        ("adddate('2023-12-30', 3)", "2024-01-02"),
        ("adddate('2023-12-30 10:00:00', 1)", "2023-12-31 10:00:00"),
        ("subdate('2024-03-01', 1)", "2024-02-29"),
        (
            "date_format('2023-01-05 07:08:09', '%Y/%c/%e %H:%i:%s %M %%')",
            "2023/1/5 07:08:09 January %",
        ),
        ("year('not a date')", None),
        ("year(NULL)", None),
        ("year(20230101)", None),
        ("concat('a', 1, 2.5)", "a12.5"),
        ("concat('a', NULL)", None),
        ("concat_ws('-', 'a', NULL, 'b')", "a-b"),
        ("if(1 > 2, 'yes', 'no')", "no"),
        ("nvl(NULL, 3)", 3),
        ("lcase('AbC')", "abc"),
        ("ucase('AbC')", "ABC"),
        ("len('abcd')", 4),
        ("char_length(NULL)", None),
        ("reverse('abc')", "cba"),
        ("locate('c', 'abcabc')", 3),
        ("locate('z', 'abc')", 0),
        ("lpad('7', 3, '0')", "007"),
        ("rpad('ab', 5, 'xy')", "abxyx"),
        ("lpad('abcdef', 3, '0')", "abc"),
        ("now()", "2024-02-29 23:59:58"),
        ("curdate()", "2024-02-29"),
        ("curtime()", "23:59:58"),
        ("today()", "2024-02-29"),
    ],
)
def test_function(conn: sqlite3.Connection, expression: str, expected: object):
    assert conn.execute(f"SELECT {expression}").fetchone()[0] == expected


def test_isnull_is_a_keyword_in_sqlite(conn: sqlite3.Connection):
    # Why ISNULL() is not offered: SQLite parses `isnull` as the postfix operator.
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):
        conn.execute("SELECT isnull(NULL)")
    assert conn.execute("SELECT NULL ISNULL, ifnull(NULL, 2)").fetchone() == (1, 2)


def test_register_names_every_function_it_adds(conn: sqlite3.Connection):
    names = sql_functions.register(sqlite3.connect(":memory:"), lambda: NOW)
    assert {"year", "concat", "now", "nvl", "date_format"} <= set(names)
    for name in set(names) - {"concat", "concat_ws"}:  # those two take any number
        # Registered under that name: a wrong arity, not "no such function".
        with pytest.raises(sqlite3.OperationalError, match="wrong number of arguments"):
            conn.execute(f"SELECT {name}(1, 2, 3, 4, 5)")

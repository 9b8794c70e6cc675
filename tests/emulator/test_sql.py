"""The mini SQL of Analytics exports: the supported subset and the refusals."""

from __future__ import annotations

import pytest

from zsync.emulator import sql

COLUMNS = ["Region", "Product", "Units", "Amount"]
ROWS = [
    {"Region": "East", "Product": "Laptop", "Units": 2, "Amount": 100.0},
    {"Region": "West", "Product": "Mouse", "Units": 5, "Amount": 25.5},
    {"Region": "East", "Product": "Mouse", "Units": 1, "Amount": 10.25},
    {"Region": "North", "Product": "Dock", "Units": 3, "Amount": None},
]


def run(text: str) -> tuple[list[str], list[list]]:
    return sql.execute(sql.parse(text), COLUMNS, lambda: iter(ROWS))


def test_group_by_with_aggregates():
    header, rows = run(
        "SELECT Region, SUM(Amount), COUNT(*), AVG(Units), MIN(Units), MAX(Units) "
        "FROM Sales GROUP BY Region ORDER BY Region"
    )
    assert header == ["Region", "SUM(Amount)", "COUNT(*)", "AVG(Units)", "MIN(Units)", "MAX(Units)"]
    assert rows == [
        ["East", 110.25, 2, 1.5, 1, 2],
        ["North", None, 1, 3.0, 3, 3],
        ["West", 25.5, 1, 5.0, 5, 5],
    ]


def test_where_order_limit_alias():
    header, rows = run(
        "SELECT \"Product\" AS P, Units FROM Sales WHERE (Region = 'East' OR "
        "Units >= 5) AND NOT Product LIKE 'Lap%' ORDER BY Units DESC LIMIT 1"
    )
    assert header == ["P", "Units"] and rows == [["Mouse", 5]]
    assert run("SELECT * FROM Sales LIMIT 1 OFFSET 3")[1] == [["North", "Dock", 3, None]]
    assert run("SELECT COUNT(*) FROM Sales WHERE Units > 100")[1] == [[0]]
    _, rows = run(
        "SELECT Region, SUM(Units) AS Total FROM Sales GROUP BY Region ORDER BY Total DESC"
    )
    assert rows[0] == ["West", 5]


@pytest.mark.parametrize(
    "text",
    [
        "SELECT Region FROM Sales JOIN Other",
        "UPDATE Sales SET Units = 1",
        "SELECT UPPER(Region) FROM Sales",
        "SELECT Region, SUM(Units) FROM Sales",
        "SELECT Missing FROM Sales",
        "SELECT Region FROM Sales ORDER BY Units",
        "SELECT Region FROM Sales WHERE Units = Amount",
        "SELECT Region FROM",
    ],
)
def test_unsupported_sql_is_refused(text):
    with pytest.raises(sql.SqlError):
        run(text)

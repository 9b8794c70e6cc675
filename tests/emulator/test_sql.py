"""Analytics SQL export over the wire, run by SQLite: ordinary Analytics SQL works and matches
the same result computed in Python from the emulator's rows; what Zoho refuses answers Zoho's
error code and leaves the emulator as it was.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from typing import Any

import pytest

from .conftest import EmulatorHandle
from .test_analytics import config_param, get, post_import, sales_csv, view_id, ws

Rows = list[dict[str, Any]]


async def sql_export(emu: EmulatorHandle, query: str) -> tuple[list[str], list[list[str]]]:
    """Create a JSON SQL export, let it finish, download it: (header, rows of cells)."""
    status, reply, _ = await get(
        emu, f"{ws(emu)}/data?" + config_param({"responseFormat": "json", "sqlQuery": query})
    )
    assert status == 200, reply
    job_id = reply["data"]["jobId"]
    emu.advance(60)
    status, content, _ = await get(emu, f"{ws(emu)}/exportjobs/{job_id}/data")
    assert status == 200, content
    assert isinstance(content, dict)
    # The header the server computed (JSON objects lose duplicate names; these tests avoid them).
    header = emu.emulator.analytics.run_sql(query)[0]
    return header, [[item[h] for h in header] for item in content["data"]]


async def sql_error(emu: EmulatorHandle, query: str) -> tuple[int, int, str]:
    status, reply, _ = await get(
        emu, f"{ws(emu)}/data?" + config_param({"responseFormat": "csv", "sqlQuery": query})
    )
    assert isinstance(reply, dict) and reply["status"] == "failure", reply
    return status, reply["data"]["errorCode"], reply["data"]["errorMessage"]


def sales(emu: EmulatorHandle) -> Rows:
    return emu.emulator.rows("analytics", "Sales")


def money(value: float) -> str:
    return f"{value:.2f}"  # how the export renders a decimal


async def test_having_in_and_distinct(emu: EmulatorHandle):
    rows = sales(emu)
    per_product = Counter(r["Product"] for r in rows)
    threshold = sorted(per_product.values())[len(per_product) // 2]  # some pass, some do not
    header, got = await sql_export(
        emu,
        "SELECT Product, COUNT(*) AS n FROM Sales GROUP BY Product "
        f"HAVING COUNT(*) >= {threshold} ORDER BY Product",
    )
    expected = sorted((p, n) for p, n in per_product.items() if n >= threshold)
    assert 0 < len(expected) < len(per_product)
    assert header == ["Product", "n"]
    assert got == [[p, str(n)] for p, n in expected]

    chosen = [r for r in rows if r["Region"] in ("East", "West")]
    assert 0 < len(chosen) < len(rows)
    _, got = await sql_export(
        emu, "SELECT COUNT(*), SUM(Units) FROM Sales WHERE Region IN ('East', 'West')"
    )
    assert got == [[str(len(chosen)), str(sum(r["Units"] for r in chosen))]]
    _, got = await sql_export(
        emu, "SELECT COUNT(*) FROM Sales WHERE Region NOT IN ('East', 'West')"
    )
    assert got == [[str(len(rows) - len(chosen))]]

    header, got = await sql_export(emu, "SELECT DISTINCT Region FROM Sales ORDER BY 1")
    assert header == ["Region"]
    assert got == [[region] for region in sorted({r["Region"] for r in rows})]
    _, got = await sql_export(emu, "SELECT COUNT(DISTINCT Customer) FROM Sales")
    assert got == [[str(len({r["Customer"] for r in rows}))]]


async def test_aliases_and_double_quoted_identifiers(emu: EmulatorHandle):
    rows = sales(emu)
    header, got = await sql_export(
        emu,
        'SELECT s."Customer" AS "Who", s.Units AS u FROM "Sales" AS s '
        'WHERE s.Units >= 45 ORDER BY u DESC, "Who"',
    )
    expected = sorted(
        ((r["Customer"], r["Units"]) for r in rows if r["Units"] >= 45),
        key=lambda x: (-x[1], x[0]),
    )
    assert expected and header == ["Who", "u"]
    assert got == [[c, str(u)] for c, u in expected]
    # An unaliased expression is named as written, double quotes and all.
    header, _ = await sql_export(emu, 'SELECT SUM("Amount") FROM Sales')
    assert header == ['SUM("Amount")']


async def test_join_with_group_by(emu: EmulatorHandle):
    rows = sales(emu)
    customers = emu.emulator.rows("analytics", "Customers")
    segments: dict[str, list[str]] = defaultdict(list)
    for c in customers:
        segments[c["Customer"]].append(c["Segment"])
    expected: dict[str, list[int]] = {}
    for r in rows:
        for segment in segments.get(r["Customer"], []):
            total = expected.setdefault(segment, [0, 0])
            total[0] += 1
            total[1] += r["Units"]
    assert expected, "the demo data should have customers in both tables"
    header, got = await sql_export(
        emu,
        "SELECT c.Segment, COUNT(*) AS Orders, SUM(s.Units) AS Units FROM Sales s "
        "JOIN Customers c ON c.Customer = s.Customer GROUP BY c.Segment ORDER BY c.Segment",
    )
    assert header == ["Segment", "Orders", "Units"]
    assert got == [[seg, str(n), str(u)] for seg, (n, u) in sorted(expected.items())]


async def test_group_by_with_aggregates(emu: EmulatorHandle):
    rows = sales(emu)
    header, got = await sql_export(
        emu,
        "SELECT Product, COUNT(*), SUM(Units), AVG(Amount), MIN(Date), MAX(Amount) "
        "FROM Sales GROUP BY Product ORDER BY Product",
    )
    assert header == [
        "Product",
        "COUNT(*)",
        "SUM(Units)",
        "AVG(Amount)",
        "MIN(Date)",
        "MAX(Amount)",
    ]
    by_product: dict[str, Rows] = defaultdict(list)
    for r in rows:
        by_product[r["Product"]].append(r)
    expected = [
        [
            product,
            str(len(group)),
            str(sum(r["Units"] for r in group)),
            money(sum(r["Amount"] for r in group) / len(group)),
            min(r["Date"] for r in group),
            money(max(r["Amount"] for r in group)),
        ]
        for product, group in sorted(by_product.items())
    ]
    assert len(expected) > 1 and got == expected


async def test_order_by_limit_offset(emu: EmulatorHandle):
    rows = sales(emu)
    ranked = sorted(rows, key=lambda r: (-r["Amount"], r["Customer"]))
    _, got = await sql_export(
        emu, "SELECT Customer, Amount FROM Sales ORDER BY Amount DESC, Customer LIMIT 5 OFFSET 2"
    )
    assert got == [[r["Customer"], money(r["Amount"])] for r in ranked[2:7]]
    _, got = await sql_export(emu, "SELECT * FROM Sales LIMIT 3")
    columns = ["Date", "Region", "Product", "Customer", "Units", "Amount"]
    assert got == [[money(r[c]) if c == "Amount" else str(r[c]) for c in columns] for r in rows[:3]]


async def test_date_functions(emu: EmulatorHandle):
    rows = sales(emu)
    when = [date.fromisoformat(r["Date"]) for r in rows]
    months = Counter((d.year, d.month) for d in when if d >= date(2023, 2, 1))
    header, got = await sql_export(
        emu,
        "SELECT year(Date) AS y, month(Date) AS m, COUNT(*) AS n FROM Sales "
        "WHERE Date >= '2023-02-01' GROUP BY y, m ORDER BY y, m",
    )
    assert len(months) > 1 and header == ["y", "m", "n"]
    assert got == [[str(y), str(m), str(n)] for (y, m), n in sorted(months.items())]

    quarters = Counter(f"{d.year}-Q{(d.month - 1) // 3 + 1}" for d in when)
    _, got = await sql_export(
        emu,
        "SELECT concat(year(Date), '-Q', quarter(Date)) AS q, COUNT(*) FROM Sales "
        "GROUP BY q ORDER BY q",
    )
    assert got == [[q, str(n)] for q, n in sorted(quarters.items())]

    first = rows[0]["Date"]
    d0 = date.fromisoformat(first)
    _, got = await sql_export(
        emu,
        "SELECT date_format(Date, '%Y/%m/%d'), strftime('%m', Date), dayname(Date), "
        "datediff(Date, '2023-01-01'), adddate(Date, 10), dayofweek(Date), "
        "ifnull(NULL, 'x'), if(Units > 100, 'big', 'small') FROM Sales LIMIT 1",
    )
    assert got == [
        [
            d0.strftime("%Y/%m/%d"),
            d0.strftime("%m"),
            d0.strftime("%A"),
            str((d0 - date(2023, 1, 1)).days),
            date.fromordinal(d0.toordinal() + 10).isoformat(),
            str(d0.isoweekday() % 7 + 1),
            "x",
            "small",
        ]
    ]
    # NOW() and CURDATE() read the emulator's clock (a manual one here).
    _, got = await sql_export(emu, "SELECT now(), curdate()")
    now = datetime.fromtimestamp(emu.emulator.clock.now(), UTC)
    assert got[0][1] == now.date().isoformat()
    assert abs(datetime.fromisoformat(got[0][0]).replace(tzinfo=UTC) - now).total_seconds() < 120


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("SELECT Region FROM Sales WHERE", 7403),  # syntax error
        ("SELECT Region, FROM Sales", 7403),
        ("SELECT nosuchfunction(Region) FROM Sales", 7403),
        ("SELECT Nope FROM Sales", 7395),
        ('SELECT "Nope" FROM Sales', 7395),  # not silently the string 'Nope' (SQLite's DQS)
        ("SELECT s.Nope FROM Sales s", 7395),
        ("SELECT * FROM Missing", 7105),
        ("SELECT * FROM sqlite_master", 7105),  # SQLite's own tables are not the workspace's
        ("DELETE FROM Sales", 7403),
        ("DROP TABLE Sales", 7403),
        ("UPDATE Sales SET Units = 0", 7403),
        ("INSERT INTO Sales (Region) VALUES ('x')", 7403),
        ("WITH x AS (SELECT 1) DELETE FROM Sales", 7403),
        ("ATTACH DATABASE '/tmp/zsync-sql-test.db' AS other", 7403),
        ("PRAGMA table_info(Sales)", 7403),
        ("SELECT * FROM pragma_table_info('Sales')", 7403),
        ("SELECT 1; DELETE FROM Sales", 7403),
        ("SELECT 1; SELECT 2", 7403),
        ("CREATE TEMP TABLE t AS SELECT * FROM Sales", 7403),
        ("SELECT load_extension('x')", 7403),
        ("VACUUM", 7403),
    ],
)
async def test_refusals_answer_zoho_codes_and_harm_nothing(
    emu: EmulatorHandle, query: str, code: int
):
    before = sales(emu)
    _, baseline = await sql_export(emu, "SELECT COUNT(*), SUM(Units) FROM Sales")
    status, got, message = await sql_error(emu, query)
    assert (status, got) == (400, code), message
    assert emu.emulator.creates("analytics.export") == 1  # only the baseline's job
    assert sales(emu) == before
    _, after = await sql_export(emu, "SELECT COUNT(*), SUM(Units) FROM Sales")
    assert after == baseline == [[str(len(before)), str(sum(r["Units"] for r in before))]]


async def test_runaway_query_is_stopped(emu: EmulatorHandle):
    database = emu.emulator.analytics.sql
    database.limits.seconds = 0.3
    started = time.monotonic()
    status, code, message = await sql_error(
        emu,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c",
    )
    assert (status, code) == (400, 8516) and "longer than" in message
    assert time.monotonic() - started < 5
    # The server and the database are still fine.
    _, got = await sql_export(emu, "SELECT COUNT(*) FROM Sales")
    assert got == [[str(len(sales(emu)))]]


async def test_result_size_is_capped(emu: EmulatorHandle):
    database = emu.emulator.analytics.sql
    database.limits.rows = 100
    status, code, message = await sql_error(emu, "SELECT * FROM Sales")
    assert (status, code) == (400, 8516) and "too large" in message
    _, got = await sql_export(emu, "SELECT * FROM Sales LIMIT 100")
    assert len(got) == 100
    database.limits.rows = 10**9
    database.limits.bytes = 1_000
    assert (await sql_error(emu, "SELECT * FROM Sales"))[1] == 8516
    # An endless recursive CTE meets the row cap (or the clock), never memory exhaustion.
    database.limits.bytes = 10**9
    database.limits.rows = 50_000
    status, code, _ = await sql_error(
        emu, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"
    )
    assert (status, code) == (400, 8516)


async def test_database_is_built_once_and_follows_imports(emu: EmulatorHandle):
    database = emu.emulator.analytics.sql
    await sql_export(emu, "SELECT COUNT(*) FROM Sales")
    loaded = database.stats.tables
    assert loaded == 2  # Sales and Customers
    await sql_export(emu, "SELECT COUNT(*) FROM Customers")
    await sql_export(emu, "SELECT Region FROM Sales LIMIT 1")
    assert database.stats.tables == loaded  # no reload without a change

    path = f"{ws(emu)}/views/{view_id(emu, 'Sales')}/data"
    status, reply = await post_import(
        emu,
        path,
        {"importType": "append", "fileType": "csv", "autoIdentify": "true"},
        sales_csv(("2030-05-01", "Mars", "Rover", "Ann", 2, 10.5)),
    )
    assert status == 200, reply
    emu.advance(60)
    _, got = await sql_export(emu, "SELECT Customer, year(Date) FROM Sales WHERE Region = 'Mars'")
    assert got == [["Ann", "2030"]]
    assert database.stats.tables == loaded + 1  # only Sales was reloaded

    status, reply = await post_import(
        emu,
        path,
        {"importType": "truncateadd", "fileType": "csv", "autoIdentify": "true"},
        sales_csv(("2031-01-01", "Moon", "Dock", "Bob", 1, 3)),
    )
    assert status == 200, reply
    emu.advance(60)
    _, got = await sql_export(emu, "SELECT Region, COUNT(*) FROM Sales GROUP BY Region")
    assert got == [["Moon", "1"]]


async def test_a_new_table_from_an_import_is_queryable(emu: EmulatorHandle):
    status, reply = await post_import(
        emu,
        f"{ws(emu)}/data",
        {"tableName": "Targets", "fileType": "csv", "autoIdentify": "true"},
        b"Region,Target,Starts\r\nEast,100,2024-01-01\r\nWest,250.5,2024-02-01\r\n",
    )
    assert status == 200, reply
    emu.advance(60)
    assert (await sql_error(emu, "SELECT * FROM Nope"))[1] == 7105
    _, got = await sql_export(
        emu,
        "SELECT t.Region, t.Target, month(t.Starts), COUNT(s.Region) FROM Targets t "
        "LEFT JOIN Sales s ON s.Region = t.Region GROUP BY t.Region ORDER BY t.Region",
    )
    counts = Counter(r["Region"] for r in sales(emu))
    assert got == [
        ["East", "100.00", "1", str(counts["East"])],
        ["West", "250.50", "2", str(counts["West"])],
    ]


async def test_sql_runs_off_another_thread_too(emu: EmulatorHandle):
    # Ground truth may run the same query from a test's thread while the server serves.
    truth = emu.emulator.ground_truth
    csv_bytes = await asyncio.to_thread(
        truth.analytics_sql, "SELECT Region, COUNT(*) FROM Sales GROUP BY Region"
    )
    assert csv_bytes.startswith(b"Region,COUNT(*)\r\n")

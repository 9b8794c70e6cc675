"""Analytics export CONFIG over raw HTTP: criteria, selectedColumns, delimiter, dateFormat,
showHiddenCols and every responseFormat, each checked against the emulator's stored rows in
plain Python, and each refusal with Zoho's code."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from zsync.sinks.result import ResultWriter

from .conftest import EmulatorHandle
from .documents import PARSERS, parse_csv
from .test_analytics import config_param, details, get, view_id, ws


async def download(emu: EmulatorHandle, config: dict[str, Any], view: str = "Sales") -> bytes:
    path = f"{ws(emu)}/views/{view_id(emu, view)}/data" if view else f"{ws(emu)}/data"
    status, reply, _ = await get(emu, f"{path}?{config_param(config)}")
    assert status == 200, reply
    job_id = reply["data"]["jobId"]
    emu.advance(120)
    assert (await details(emu, job_id))["jobCode"] == "1004"
    async with emu.session.get(
        f"{emu.base_url}{ws(emu)}/exportjobs/{job_id}/data", headers=await emu.analytics_headers()
    ) as response:
        assert response.status == 200
        return await response.read()


async def refused(emu: EmulatorHandle, config: dict[str, Any], view: str = "Sales") -> int:
    path = f"{ws(emu)}/views/{view_id(emu, view)}/data" if view else f"{ws(emu)}/data"
    status, reply, _ = await get(emu, f"{path}?{config_param(config)}")
    assert status == 400, reply
    assert reply["status"] == "failure"
    return int(reply["data"]["errorCode"])


def sales(emu: EmulatorHandle) -> list[dict[str, Any]]:
    return emu.emulator.rows("analytics", "Sales")


def text(value: Any) -> str:
    return "" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


async def test_criteria_exports_exactly_the_matching_rows(emu: EmulatorHandle) -> None:
    criteria = '"Sales"."Region" = \'East\' and "Amount" > 2000'
    header, rows = parse_csv(await download(emu, {"responseFormat": "csv", "criteria": criteria}))
    columns = list(sales(emu)[0])
    expected = [
        [text(r[c]) for c in columns]
        for r in sales(emu)
        if r["Region"] == "East" and r["Amount"] > 2000
    ]
    assert header == columns
    east = sum(r["Region"] == "East" for r in sales(emu))
    assert 0 < len(expected) < east < len(sales(emu))  # both conditions leave rows out
    assert rows == expected


async def test_criteria_in_like_or_not_and_dates(emu: EmulatorHandle) -> None:
    criteria = (
        "(\"Region\" in ('north', 'South') or \"Product\" like 'Mo%') "
        'and not "Units" <= 2 and "Date" >= \'01-Mar-2023\' and "Customer" != \'\''
    )
    _, rows = parse_csv(
        await download(emu, {"criteria": criteria, "selectedColumns": ["Date", "Units"]})
    )

    def wanted(r: dict[str, Any]) -> bool:
        region = r["Region"].lower() in ("north", "south")  # text ignores case
        product = r["Product"].lower().startswith("mo")
        return (region or product) and not r["Units"] <= 2 and r["Date"] >= "2023-03-01"

    expected = [[r["Date"], str(r["Units"])] for r in sales(emu) if wanted(r) and r["Customer"]]
    assert 0 < len(expected) < len(sales(emu))
    assert rows == expected


async def test_selected_columns_subset_in_their_order(emu: EmulatorHandle) -> None:
    header, rows = parse_csv(
        await download(emu, {"responseFormat": "csv", "selectedColumns": ["Amount", "Region"]})
    )
    assert header == ["Amount", "Region"]
    assert rows == [[text(r["Amount"]), r["Region"]] for r in sales(emu)]


async def test_sql_export_takes_selected_columns(emu: EmulatorHandle) -> None:
    sql = "SELECT Region, SUM(Amount) AS Total FROM Sales GROUP BY Region"
    config = {"sqlQuery": sql, "selectedColumns": ["Total", "Region"]}
    header, rows = parse_csv(await download(emu, config, view=""))
    assert header == ["Total", "Region"]
    totals: dict[str, float] = {}
    for r in sales(emu):
        totals[r["Region"]] = totals.get(r["Region"], 0.0) + r["Amount"]
    assert {region: float(total) for total, region in rows} == pytest.approx(totals)


async def test_tab_delimited_unix_lines_parse(emu: EmulatorHandle) -> None:
    data = await download(emu, {"delimiter": 1, "recordDelimiter": "1"}, view="Customers")
    customers = emu.emulator.rows("analytics", "Customers")
    assert b"\r" not in data and data.count(b"\n") == len(customers) + 1
    header, rows = parse_csv(data, delimiter="\t")
    assert header == ["Customer", "Region", "Segment", "Since"]
    assert rows == [
        [text(r[c]) for c in header] for r in emu.emulator.rows("analytics", "Customers")
    ]
    semicolon = await download(emu, {"delimiter": "2"}, view="Customers")
    assert parse_csv(semicolon, delimiter=";") == (header, rows)


async def test_date_format_applied_to_date_columns_only(emu: EmulatorHandle) -> None:
    data = await download(emu, {"dateFormat": "dd-MMM-yyyy", "criteria": '"Units" = 3'})
    header, rows = parse_csv(data)
    matching = [r for r in sales(emu) if r["Units"] == 3]
    assert rows and len(rows) == len(matching)
    for row, stored in zip(rows, matching, strict=True):
        assert row[header.index("Date")] == date.fromisoformat(stored["Date"]).strftime("%d-%b-%Y")
        assert row[header.index("Amount")] == text(stored["Amount"])


@pytest.mark.parametrize("fmt", ["csv", "json", "xml", "html", "pdf", "xls"])
async def test_each_format_reads_back_and_passes_its_check(
    emu: EmulatorHandle, fmt: str, tmp_path: Path
) -> None:
    config = {
        "responseFormat": fmt,
        "criteria": "\"Region\" = 'West'",
        "selectedColumns": ["Customer", "Date", "Amount"],
        "dateFormat": "yyyy/MM/dd",
        "showHiddenCols": False,
    }
    data = await download(emu, config)
    parse = PARSERS[fmt]
    table = parse(data, title="Sales") if fmt == "pdf" else parse(data)
    expected = emu.emulator.ground_truth.analytics_rows("Sales", config)
    assert table == expected
    assert table[1] == [
        [r["Customer"], r["Date"].replace("-", "/"), text(r["Amount"])]
        for r in sales(emu)
        if r["Region"] == "West"
    ]
    writer = ResultWriter(tmp_path / f"out.{fmt}", fmt)  # type: ignore[arg-type]
    page = writer.page()
    for start in range(0, len(data), 1000):  # the check sees the body in chunks
        page.write(data[start : start + 1000])
    rows = page.close()
    assert writer.commit().bytes == len(data)
    if fmt in ("csv", "xml"):
        assert rows == len(expected[1])


async def test_xls_is_a_biff8_workbook_in_an_ole2_file(emu: EmulatorHandle) -> None:
    data = await download(emu, {"responseFormat": "xls"}, view="Customers")
    assert data[:8] == bytes.fromhex("d0cf11e0a1b11ae1")
    assert (len(data) - 512) % 512 == 0
    assert b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k\x00" in data  # the stream's name


async def test_empty_result_is_still_a_document(emu: EmulatorHandle, tmp_path: Path) -> None:
    for fmt in ("xml", "html", "pdf", "xls"):
        data = await download(emu, {"responseFormat": fmt, "criteria": '"Units" > 1000000'})
        table = PARSERS[fmt](data, title="Sales") if fmt == "pdf" else PARSERS[fmt](data)
        assert table[1] == []
        page = ResultWriter(tmp_path / f"empty.{fmt}", fmt).page()  # type: ignore[arg-type]
        page.write(data)
        page.close()


@pytest.mark.parametrize(
    ("config", "code"),
    [
        ({"responseFormat": "docx"}, 8001),
        ({"responseFormat": "image"}, 8014),
        ({"selectedColumns": ["Region", "Nope"]}, 8015),
        ({"selectedColumns": []}, 8547),
        ({"selectedColumns": [f"c{n}" for n in range(301)]}, 8547),
        ({"criteria": '"Region" = \'East'}, 7331),
        ({"criteria": "\"Region\" = 'East' and"}, 7331),
        ({"criteria": "Region = 'East'"}, 7331),
        ({"criteria": '"Region" = "East"'}, 7331),
        ({"criteria": '"Nope" = 1'}, 7330),
        ({"criteria": '"Customers"."Region" = \'East\''}, 7332),
        ({"criteria": 'sum("Amount") > 10'}, 7333),
        ({"criteria": "\"Amount\" > 'lots'"}, 7327),
        ({"delimiter": 9}, 8119),
        ({"recordDelimiter": 5}, 8119),
        ({"showHiddenCols": "sometimes"}, 8119),
        ({"dateFormat": "dd-qq-yyyy"}, 8504),
    ],
)
async def test_what_zoho_refuses_is_refused(
    emu: EmulatorHandle, config: dict[str, Any], code: int
) -> None:
    assert await refused(emu, config) == code
    assert emu.emulator.jobs.active(emu.emulator.analytics.org_id, "analytics.export", 0) == 0


async def test_sql_export_takes_no_criteria(emu: EmulatorHandle) -> None:
    config = {"sqlQuery": "SELECT Region FROM Sales", "criteria": "\"Region\" = 'East'"}
    assert await refused(emu, config, view="") == 8119


async def test_delimiter_is_ignored_off_csv(emu: EmulatorHandle) -> None:
    data = await download(emu, {"responseFormat": "json", "delimiter": 1}, view="Customers")
    assert PARSERS["json"](data)[0] == ["Customer", "Region", "Segment", "Since"]


async def test_format_limits_refused_at_create(start_emulator) -> None:
    from zsync.emulator import EmulatorConfig

    emu = await start_emulator(EmulatorConfig().with_sizes(analytics_Sales=170_000))
    assert await refused(emu, {"responseFormat": "pdf"}) == 7827  # 6 x 170,000 cells
    assert await refused(emu, {"responseFormat": "xls"}) == 7806
    only_east = '"Region" = \'East\' and "Units" = 1'
    assert re.fullmatch(r"\d+", str(await small_xls_job(emu, only_east)))


async def small_xls_job(emu: EmulatorHandle, criteria: str) -> str:
    path = f"{ws(emu)}/views/{view_id(emu, 'Sales')}/data"
    config = {"responseFormat": "xls", "criteria": criteria}
    status, reply, _ = await get(emu, f"{path}?{config_param(config)}")
    assert status == 200, reply  # a filtered export fits where the whole table doesn't
    return reply["data"]["jobId"]

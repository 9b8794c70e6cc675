"""Zoho Analytics v2 over raw HTTP: metadata, async export (view and SQL), async import."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote_plus

import aiohttp

from zsync.emulator import EmulatorConfig

from .conftest import EmulatorHandle, snapshot
from .snapshot import assert_same_shape


def config_param(config: dict) -> str:
    # What the official client sends: CONFIG=<quote_plus(json.dumps(config))> [sdk].
    return "CONFIG=" + quote_plus(json.dumps(config))


def ws(emu: EmulatorHandle) -> str:
    return f"/restapi/v2/bulk/workspaces/{emu.emulator.analytics.workspace_id}"


def view_id(emu: EmulatorHandle, name: str) -> str:
    return next(v.id for v in emu.emulator.analytics.views.values() if v.name == name)


async def get(emu: EmulatorHandle, path: str, **kwargs) -> tuple[int, object, object]:
    return await emu.call("GET", path, headers=await emu.analytics_headers(), **kwargs)


async def export(emu: EmulatorHandle, path: str, config: dict) -> str:
    status, reply, _ = await get(emu, f"{path}?{config_param(config)}")
    assert status == 200, reply
    assert_same_shape(reply, snapshot("analytics_export_create"))
    return reply["data"]["jobId"]


async def details(emu: EmulatorHandle, job_id: str, kind: str = "exportjobs") -> dict:
    status, reply, _ = await get(emu, f"{ws(emu)}/{kind}/{job_id}")
    assert status == 200, reply
    assert reply["status"] == "success"
    return reply["data"]


async def test_metadata_leads_to_ids(emu: EmulatorHandle):
    status, reply, _ = await emu.call("GET", "/restapi/v2/orgs")
    assert status == 200 and reply["status"] == "success"
    assert reply["data"]["orgs"][0]["orgId"] == emu.emulator.analytics.org_id
    status, reply, _ = await emu.call("GET", "/restapi/v2/workspaces")
    owned = reply["data"]["ownedWorkspaces"]
    assert owned[0]["workspaceId"] == emu.emulator.analytics.workspace_id
    status, reply, _ = await get(emu, f"/restapi/v2/workspaces/{owned[0]['workspaceId']}/views")
    views = {v["viewName"]: v for v in reply["data"]["views"]}
    assert views["Sales"]["viewType"] == "Table"
    assert {"Region", "Amount"} <= set(views["Sales"]["columns"])
    assert views["Sales by Region"]["viewType"] == "QueryTable"


async def test_export_view_progresses_and_downloads(emu: EmulatorHandle):
    job_id = await export(
        emu,
        f"{ws(emu)}/views/{view_id(emu, 'Sales')}/data",
        {"responseFormat": "csv", "dateFormat": "dd-MM-yyyy"},
    )
    assert (await details(emu, job_id))["jobCode"] == "1001"
    emu.advance(2 * emu.emulator.config.job_wait_seconds)
    assert (await details(emu, job_id)) == {
        "jobId": job_id,
        "jobCode": "1002",
        "jobStatus": "JOB IN PROGRESS",
    }
    emu.advance(10)
    _, reply, _ = await get(emu, f"{ws(emu)}/exportjobs/{job_id}")
    assert_same_shape(reply, snapshot("analytics_export_details_completed"))
    data = reply["data"]
    assert (data["jobCode"], data["jobStatus"]) == ("1004", "JOB COMPLETED")
    assert data["downloadUrl"] == f"{emu.base_url}{ws(emu)}/exportjobs/{job_id}/data"
    async with emu.session.get(
        data["downloadUrl"], headers=await emu.analytics_headers()
    ) as response:
        assert response.status == 200
        content = await response.read()
    assert content == emu.emulator.ground_truth.analytics_view(
        "Sales", config={"dateFormat": "dd-MM-yyyy"}
    )
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    stored = emu.emulator.rows("analytics", "Sales")
    year, month, day = stored[0]["Date"].split("-")
    assert rows[0]["Date"] == f"{day}-{month}-{year}"  # the dateFormat applied
    assert len(rows) == 400 and set(rows[0]) == {
        "Date",
        "Region",
        "Product",
        "Customer",
        "Units",
        "Amount",
    }


async def test_sql_export_group_by(emu: EmulatorHandle):
    sql = "SELECT Region, SUM(Amount) FROM Sales GROUP BY Region"
    job_id = await export(emu, f"{ws(emu)}/data", {"responseFormat": "json", "sqlQuery": sql})
    emu.advance(60)
    status, content, _ = await get(emu, f"{ws(emu)}/exportjobs/{job_id}/data")
    assert status == 200
    assert json.dumps(content).encode() != b""
    assert json.loads(emu.emulator.ground_truth.analytics_sql(sql, "json")) == content
    totals = {row["Region"]: float(row["SUM(Amount)"]) for row in content["data"]}
    expected: dict[str, float] = {}
    for row in emu.emulator.rows("analytics", "Sales"):
        expected[row["Region"]] = expected.get(row["Region"], 0.0) + row["Amount"]
    assert totals.keys() == expected.keys()
    for region, total in expected.items():
        assert abs(totals[region] - total) < 0.01


async def test_query_table_view_runs_its_sql(emu: EmulatorHandle):
    job_id = await export(
        emu, f"{ws(emu)}/views/{view_id(emu, 'Sales by Region')}/data", {"responseFormat": "csv"}
    )
    emu.advance(60)
    _, content, _ = await get(emu, f"{ws(emu)}/exportjobs/{job_id}/data")
    assert content.startswith(b"Region,Total\r\nCentral,")


async def test_invalid_sql_fails_zoho_style(emu: EmulatorHandle):
    # Codes from the v2 error-code pages (see zsync/emulator/sql.py); more in test_sql.py.
    for sql, code in [
        ("SELECT Region FROM Sales JOIN Customers", 7403),  # ambiguous Region
        ("DELETE FROM Sales", 7403),
        ("SELECT Nope FROM Sales", 7395),
        ("SELECT * FROM Missing", 7105),
    ]:
        status, reply, _ = await get(
            emu, f"{ws(emu)}/data?" + config_param({"responseFormat": "csv", "sqlQuery": sql})
        )
        assert status == 400, sql
        assert reply["status"] == "failure" and reply["data"]["errorCode"] == code, sql
    assert emu.emulator.creates("analytics.export") == 0


async def test_org_header_and_ids_checked(emu: EmulatorHandle):
    path = f"{ws(emu)}/views/{view_id(emu, 'Sales')}/data?" + config_param(
        {"responseFormat": "csv"}
    )
    status, reply, _ = await emu.call("GET", path)
    assert (status, reply["data"]["errorCode"]) == (400, 8083)
    status, reply, _ = await emu.call(
        "GET", path, headers=await emu.headers(**{"ZANALYTICS-ORGID": "1"})
    )
    assert reply["data"]["errorCode"] == 7387
    status, reply, _ = await get(emu, "/restapi/v2/bulk/workspaces/1/views/1/data")
    assert reply["data"]["errorCode"] == 7103
    status, reply, _ = await get(emu, f"{ws(emu)}/views/1/data")
    assert reply["data"]["errorCode"] == 7138


async def test_five_export_jobs_per_org_and_unknown_job(emu: EmulatorHandle):
    path = f"{ws(emu)}/views/{view_id(emu, 'Customers')}/data"
    for _ in range(5):
        await export(emu, path, {"responseFormat": "csv"})
    status, reply, _ = await get(emu, f"{path}?{config_param({'responseFormat': 'csv'})}")
    assert status == 400 and reply["data"]["errorCode"] == 8084
    assert emu.emulator.peak_jobs("analytics.export") == 5
    emu.advance(60)
    await export(emu, path, {"responseFormat": "csv"})  # the first five finished
    assert (await details(emu, "123456789"))["jobCode"] == "1005"


async def test_result_gone_one_hour_after_completion(emu: EmulatorHandle):
    job_id = await export(
        emu, f"{ws(emu)}/views/{view_id(emu, 'Customers')}/data", {"responseFormat": "csv"}
    )
    emu.advance(60)
    assert (await details(emu, job_id))["jobCode"] == "1004"
    emu.advance(3600)
    await emu.token(fresh=True)
    assert (await details(emu, job_id))["jobCode"] == "1005"
    status, reply, _ = await get(emu, f"{ws(emu)}/exportjobs/{job_id}/data")
    assert status == 404 and reply["status"] == "failure"


async def test_failed_export_is_1003(emu: EmulatorHandle):
    emu.emulator.faults.fail_next_jobs("analytics.export")
    job_id = await export(
        emu, f"{ws(emu)}/views/{view_id(emu, 'Customers')}/data", {"responseFormat": "csv"}
    )
    emu.advance(60)
    data = await details(emu, job_id)
    assert (data["jobCode"], data["jobStatus"]) == ("1003", "ERROR OCCURRED")


# -- import ---------------------------------------------------------------------------------
async def post_import(
    emu: EmulatorHandle, path: str, config: dict, content: bytes, field: str = "FILE"
) -> tuple[int, dict]:
    form = aiohttp.FormData()
    form.add_field(field, content, filename="data.csv", content_type="text/csv")
    return (
        await emu.call(
            "POST",
            f"{path}?{config_param(config)}",
            data=form,
            headers=await emu.analytics_headers(),
        )
    )[:2]


def sales_csv(*rows: tuple) -> bytes:
    lines = ["Date,Region,Product,Customer,Units,Amount"]
    lines += [",".join(str(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


async def test_import_append_stores_rows(emu: EmulatorHandle):
    path = f"{ws(emu)}/views/{view_id(emu, 'Sales')}/data"
    status, reply = await post_import(
        emu,
        path,
        {"importType": "append", "fileType": "csv", "autoIdentify": "true", "extra": 1},
        sales_csv(
            ("2024-01-01", "Mars", "Rover", "Ann", 2, 10.5),
            ("2024-01-02", "Mars", "Dock", "Bob", 1, 3),
        ),
    )
    assert status == 200 and reply["status"] == "success"
    job_id = reply["data"]["jobId"]
    assert (await details(emu, job_id, "importjobs"))["jobCode"] == "1001"
    assert len(emu.emulator.rows("analytics", "Sales")) == 400  # stored on completion
    emu.advance(60)
    data = await details(emu, job_id, "importjobs")
    assert (data["jobCode"], data["jobStatus"]) == ("1004", "JOB COMPLETED")
    summary = data["importSummary"]
    assert summary["totalRowCount"] == 2 and summary["successRowCount"] == 2
    assert summary["importType"] == "APPEND"
    assert data["columnDetails"]["Amount"] == "Decimal Number"
    rows = emu.emulator.rows("analytics", "Sales")
    assert len(rows) == 402
    assert rows[-1] == {
        "Date": "2024-01-02",
        "Region": "Mars",
        "Product": "Dock",
        "Customer": "Bob",
        "Units": 1,
        "Amount": 3.0,
    }


async def test_import_truncateadd_and_updateadd(emu: EmulatorHandle):
    path = f"{ws(emu)}/views/{view_id(emu, 'Sales')}/data"
    base = {"fileType": "csv", "autoIdentify": "true"}
    status, reply = await post_import(
        emu,
        path,
        {**base, "importType": "truncateadd"},
        sales_csv(
            ("2024-01-01", "Mars", "Rover", "Ann", 2, 10),
            ("2024-01-01", "Moon", "Rover", "Cid", 5, 50),
        ),
    )
    assert status == 200
    emu.advance(60)
    status, reply = await post_import(
        emu,
        path,
        {**base, "importType": "updateadd", "matchingColumns": ["Region"]},
        sales_csv(
            ("2024-02-01", "Mars", "Rover", "Ann", 9, 90),
            ("2024-02-01", "Venus", "Dock", "Dee", 1, 1),
        ),
    )
    assert status == 200
    emu.advance(60)
    rows = emu.emulator.rows("analytics", "Sales")
    assert [(r["Region"], r["Units"]) for r in rows] == [("Mars", 9), ("Moon", 5), ("Venus", 1)]
    status, reply = await post_import(emu, path, {**base, "importType": "updateadd"}, sales_csv())
    assert (status, reply["data"]["errorCode"]) == (400, 7003)


async def test_import_into_new_table_and_on_error(emu: EmulatorHandle):
    content = b"Name,Score\r\nann,1\r\nbob,2\r\n"
    status, reply = await post_import(
        emu,
        f"{ws(emu)}/data",
        {"tableName": "Scores", "fileType": "csv", "autoIdentify": "true"},
        content,
    )
    assert status == 200
    status, again = await post_import(
        emu,
        f"{ws(emu)}/data",
        {"tableName": "Scores", "fileType": "csv", "autoIdentify": "true"},
        content,
    )
    assert (status, again["data"]["errorCode"]) == (400, 8504)  # the table is on its way
    emu.advance(60)
    data = await details(emu, reply["data"]["jobId"], "importjobs")
    assert data["importSummary"]["importOperation"] == "created"
    assert emu.emulator.rows("analytics", "Scores") == [
        {"Name": "ann", "Score": 1},
        {"Name": "bob", "Score": 2},
    ]
    assert "Scores" in {v.name for v in emu.emulator.analytics.views.values()}
    views_id = next(v.id for v in emu.emulator.analytics.views.values() if v.name == "Scores")
    bad = b"Name,Score\r\ncid,notanumber\r\ndee,4\r\n"
    status, reply = await post_import(
        emu,
        f"{ws(emu)}/views/{views_id}/data",
        {"importType": "append", "fileType": "csv", "autoIdentify": "true", "onError": "skiprow"},
        bad,
    )
    emu.advance(60)
    data = await details(emu, reply["data"]["jobId"], "importjobs")
    assert data["importSummary"]["successRowCount"] == 1
    assert "notanumber" in data["importErrors"]
    status, reply = await post_import(
        emu,
        f"{ws(emu)}/views/{views_id}/data",
        {"importType": "append", "fileType": "csv", "autoIdentify": "true"},
        bad,
    )
    # onError abort (the default): the job is created, then ends 1003 with nothing stored.
    assert status == 200, reply
    emu.advance(60)
    data = await details(emu, reply["data"]["jobId"], "importjobs")
    assert (data["jobCode"], data["jobStatus"]) == ("1003", "ERROR OCCURRED")
    assert len(emu.emulator.rows("analytics", "Scores")) == 3
    status, reply = await post_import(
        emu,
        f"{ws(emu)}/views/{views_id}/data",
        {"importType": "append", "fileType": "csv", "autoIdentify": "true"},
        b"Other\r\n1\r\n",
    )
    assert reply["data"]["errorCode"] == 7235


async def test_import_file_limit_and_job_limit(start_emulator):
    emu = await start_emulator(EmulatorConfig(analytics_max_file_bytes=1000))
    path = f"{ws(emu)}/views/{view_id(emu, 'Sales')}/data"
    config = {"importType": "append", "fileType": "csv", "autoIdentify": "true"}
    status, reply = await post_import(
        emu, path, config, sales_csv(*[("2024-01-01", "Mars", "Rover", "Ann", 2, 10)] * 40)
    )
    assert (status, reply["status"], reply["data"]["errorCode"]) == (400, "failure", 8085)
    status, reply = await post_import(emu, path, config, b"x", field="file")
    assert reply["data"]["errorCode"] == 7003
    for _ in range(5):
        status, reply = await post_import(emu, path, config, sales_csv())
        assert status == 200
    status, reply = await post_import(emu, path, config, sales_csv())
    assert reply["data"]["errorCode"] == 8084
    assert emu.emulator.peak_jobs("analytics.import") == 5


async def import_and_finish(emu: EmulatorHandle, table: str, config: dict, content: bytes) -> dict:
    config = {"importType": "append", "fileType": "csv", "autoIdentify": "true", **config}
    status, reply = await post_import(
        emu, f"{ws(emu)}/views/{view_id(emu, table)}/data", config, content
    )
    assert status == 200, reply
    emu.advance(60)
    return await details(emu, reply["data"]["jobId"], "importjobs")


async def test_import_honours_delimiter_and_quoted(emu: EmulatorHandle):
    before = len(emu.emulator.rows("analytics", "Customers"))
    tab = b"Customer\tRegion\tSegment\tSince\r\nAnn Lee\tWest\tRetail, online\t2024-01-02\r\n"
    data = await import_and_finish(emu, "Customers", {"delimiter": "1"}, tab)
    assert data["jobCode"] == "1004" and data["importSummary"]["successRowCount"] == 1
    assert emu.emulator.rows("analytics", "Customers")[-1] == {
        "Customer": "Ann Lee",
        "Region": "West",
        "Segment": "Retail, online",
        "Since": "2024-01-02",
    }
    semi = b"Customer;Region;Segment\r\n'Bo; Jr';East;'Small'\r\n"
    data = await import_and_finish(emu, "Customers", {"delimiter": "2", "quoted": "1"}, semi)
    assert data["importSummary"]["successRowCount"] == 1
    assert emu.emulator.rows("analytics", "Customers")[-1]["Customer"] == "Bo; Jr"
    space = b'Customer Region\r\n"Cy" North\r\n'
    data = await import_and_finish(emu, "Customers", {"delimiter": "3", "quoted": "0"}, space)
    assert emu.emulator.rows("analytics", "Customers")[-1]["Customer"] == '"Cy"'
    assert len(emu.emulator.rows("analytics", "Customers")) == before + 3
    # A comma file read as tab-separated is one unknown column: refused as before.
    status, reply = await post_import(
        emu,
        f"{ws(emu)}/views/{view_id(emu, 'Customers')}/data",
        {"importType": "append", "fileType": "csv", "autoIdentify": "true", "delimiter": "1"},
        b"Customer,Region\r\nDee,West\r\n",
    )
    assert (status, reply["data"]["errorCode"]) == (400, 7235)
    status, reply = await post_import(
        emu,
        f"{ws(emu)}/views/{view_id(emu, 'Customers')}/data",
        {"importType": "append", "fileType": "csv", "autoIdentify": "true", "delimiter": "|"},
        b"Customer\r\nDee\r\n",
    )
    assert (status, reply["data"]["errorCode"]) == (400, 8504)


async def test_import_parses_dates_with_date_format(emu: EmulatorHandle):
    content = sales_csv(
        ("02/01/2024", "West", "Mouse", "Ann", 3, 4.5), ("31/12/2023", "East", "Dock", "Bo", 1, 2)
    )
    data = await import_and_finish(emu, "Sales", {"dateFormat": "dd/MM/yyyy"}, content)
    assert data["jobCode"] == "1004" and data["importSummary"]["successRowCount"] == 2
    assert [r["Date"] for r in emu.emulator.rows("analytics", "Sales")[-2:]] == [
        "2024-01-02",
        "2023-12-31",
    ]
    content = sales_csv(("05-Mar-2024", "West", "Mouse", "Cy", 1, 1))
    data = await import_and_finish(emu, "Sales", {"dateFormat": "dd-MMM-yyyy"}, content)
    assert emu.emulator.rows("analytics", "Sales")[-1]["Date"] == "2024-03-05"
    content = sales_csv(("2024-03-05 17:04:09", "West", "Mouse", "Dee", 1, 1))
    data = await import_and_finish(emu, "Sales", {"dateFormat": "yyyy-MM-dd HH:mm:ss"}, content)
    assert emu.emulator.rows("analytics", "Sales")[-1]["Date"] == "2024-03-05 17:04:09"
    # Without dateFormat the same dd/MM/yyyy file is a data error.
    content = sales_csv(("02/01/2024", "West", "Mouse", "Ann", 3, 4.5))
    data = await import_and_finish(emu, "Sales", {"onError": "skiprow"}, content)
    assert data["importSummary"]["successRowCount"] == 0
    status, reply = await post_import(
        emu,
        f"{ws(emu)}/views/{view_id(emu, 'Sales')}/data",
        {"importType": "append", "fileType": "csv", "autoIdentify": "true", "dateFormat": "qq"},
        content,
    )
    assert (status, reply["data"]["errorCode"]) == (400, 8504)


async def test_new_table_infers_dates_with_date_format(emu: EmulatorHandle):
    status, reply = await post_import(
        emu,
        f"{ws(emu)}/data",
        {
            "tableName": "Visits",
            "fileType": "csv",
            "autoIdentify": "true",
            "dateFormat": "MM/dd/yy",
        },
        b"Name,On\r\nann,01/31/24\r\n",
    )
    assert status == 200
    emu.advance(60)
    data = await details(emu, reply["data"]["jobId"], "importjobs")
    assert data["columnDetails"] == {"Name": "Plain Text", "On": "Date"}
    assert emu.emulator.rows("analytics", "Visits") == [{"Name": "ann", "On": "2024-01-31"}]


async def test_abort_ends_the_job_1003_with_a_summary(emu: EmulatorHandle):
    before = emu.emulator.rows("analytics", "Sales")
    content = sales_csv(
        ("2024-01-02", "West", "Mouse", "Ann", 3, 4.5),
        ("2024-01-03", "West", "Mouse", "Bo", "many", 4.5),
        ("2024-01-04", "West", "Mouse", "Cy", 2, 4.5),
    )
    config = {"importType": "append", "fileType": "csv", "autoIdentify": "true", "onError": "abort"}
    status, reply = await post_import(
        emu, f"{ws(emu)}/views/{view_id(emu, 'Sales')}/data", config, content
    )
    assert status == 200 and reply["status"] == "success"
    job_id = reply["data"]["jobId"]
    data = await details(emu, job_id, "importjobs")
    assert data["jobCode"] == "1001"  # created and waiting like any other job
    emu.advance(60)
    data = await details(emu, job_id, "importjobs")
    assert (data["jobCode"], data["jobStatus"]) == ("1003", "ERROR OCCURRED")
    assert "line 3" in data["errorMessage"] and "Units" in data["errorMessage"]
    assert data["importSummary"]["successRowCount"] == 0
    assert data["importSummary"]["totalRowCount"] == 3
    assert "many" in data["importErrors"]
    assert emu.emulator.rows("analytics", "Sales") == before

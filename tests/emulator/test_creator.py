"""Creator bulk read v2.1 over raw HTTP: seed 004's replies, criteria, cursor batches."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

from zsync.emulator import EmulatorConfig

from .conftest import EmulatorHandle, snapshot
from .snapshot import assert_same_shape

BASE = "/creator/v2.1/bulk/jason18/zylker-store/report/All_Orders/read"


def rows_of(zip_bytes: bytes) -> list[dict[str, str]]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        (name,) = archive.namelist()
        return list(csv.DictReader(io.StringIO(archive.read(name).decode())))


async def create(emu: EmulatorHandle, query: dict, scheme: str = "Zoho-oauthtoken") -> dict:
    status, reply, _ = await emu.call(
        "POST", BASE, json={"query": query}, headers=await emu.headers(scheme)
    )
    assert status == 200, reply
    return reply


async def test_status_matches_seed_004(emu: EmulatorHandle):
    reply = await create(emu, {"criteria": 'Status == "Open"'})
    assert_same_shape(reply, snapshot("creator_read_status_in_progress"))
    job_id = reply["details"]["id"]
    status, body, _ = await emu.call("GET", f"{BASE}/{job_id}")
    assert status == 200
    assert_same_shape(body, snapshot("creator_read_status_in_progress"))
    assert body["code"] == 3000 and body["details"]["status"] == "In-progress"
    assert body["details"]["created_by"] == "jason18"
    emu.advance(60)
    _, body, _ = await emu.call("GET", f"{BASE}/{job_id}", headers=await emu.headers("Bearer"))
    assert_same_shape(body, snapshot("creator_read_status_completed"))
    assert body["details"]["status"] == "Completed"
    url = body["details"]["result"]["download_url"]
    assert url == f"/api/bulk/v2.1/jason18/zylker-store/report/All_Orders/read/{job_id}/result"
    for path in (url, url + "/"):
        status, data, headers = await emu.call("GET", path)
        assert status == 200 and headers["Content-Type"] == "application/zip"
        rows = rows_of(data)
        assert len(rows) == body["details"]["result"]["count"] > 0
        assert {r["Status"] for r in rows} == {"Open"}
    expected = emu.emulator.ground_truth.creator_report("All_Orders", 'Status == "Open"')
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read(archive.namelist()[0]) == expected


async def test_fields_and_compound_criteria(emu: EmulatorHandle):
    criteria = '(Status == "Open" || Status == "Shipped") && Amount > 100'
    reply = await create(emu, {"criteria": criteria, "fields": ["Status", "Amount"]})
    emu.advance(60)
    _, body, _ = await emu.call("GET", f"{BASE}/{reply['details']['id']}")
    _, data, _ = await emu.call("GET", body["details"]["result"]["download_url"])
    rows = rows_of(data)
    assert rows and list(rows[0]) == ["ID", "Status", "Amount"]
    assert all(r["Status"] in ("Open", "Shipped") and float(r["Amount"]) > 100 for r in rows)


async def test_record_cursor_chain_and_expiry(start_emulator):
    emu = await start_emulator(EmulatorConfig(creator_max_batch=100, creator_small_batches=True))
    seen: list[str] = []
    cursor = None
    for batch in range(1, 4):
        query = {"max_records": 100, **({"record_cursor": cursor} if cursor else {})}
        reply = await create(emu, query)
        emu.advance(60)
        _, body, _ = await emu.call("GET", f"{BASE}/{reply['details']['id']}")
        result = body["details"]["result"]
        _, data, _ = await emu.call("GET", result["download_url"])
        seen += [r["ID"] for r in rows_of(data)]
        assert result["count"] == (100 if batch < 3 else 50)
        cursor = result.get("record_cursor")
        assert (cursor is None) == (batch == 3)  # absent on the last batch [seed 004]
    assert len(set(seen)) == 250
    # A cursor is good for 15 emulated minutes after its batch completed.
    reply = await create(emu, {"max_records": 100})
    emu.advance(60)
    _, body, _ = await emu.call("GET", f"{BASE}/{reply['details']['id']}")
    cursor = body["details"]["result"]["record_cursor"]
    emu.advance(15 * 60 + 1)
    await emu.token(fresh=True)
    status, reply, _ = await emu.call("POST", BASE, json={"query": {"record_cursor": cursor}})
    assert (status, reply["code"]) == (400, 2970)
    status, reply, _ = await emu.call("POST", BASE, json={"query": {"max_records": 101}})
    assert (status, reply["code"]) == (400, 2899)


async def test_errors(emu: EmulatorHandle):
    cases = [
        ("POST", "/creator/v2.1/bulk/someone/zylker-store/report/All_Orders/read", 404, 1040),
        ("POST", "/creator/v2.1/bulk/jason18/other/report/All_Orders/read", 404, 2892),
        ("POST", "/creator/v2.1/bulk/jason18/zylker-store/report/Nope/read", 404, 2893),
        ("GET", f"{BASE}/123", 404, 2894),
        ("GET", "/creator/v2.1/nothing", 404, 1000),
    ]
    for method, path, status, code in cases:
        got, reply, _ = await emu.call(method, path, json={"query": {}})
        assert (got, reply["code"]) == (status, code), path
    got, reply, _ = await emu.call("POST", BASE, json={"query": {"criteria": "Status = 'x'"}})
    assert (got, reply["code"]) == (400, 2899)


async def test_metadata(emu: EmulatorHandle):
    _, body, _ = await emu.call("GET", "/creator/v2.1/meta/applications")
    assert body["applications"][0]["link_name"] == "zylker-store"
    _, body, _ = await emu.call("GET", "/creator/v2.1/meta/jason18/zylker-store/reports")
    assert "All_Orders" in {r["link_name"] for r in body["reports"]}
    _, body, _ = await emu.call(
        "GET", "/creator/v2.1/meta/jason18/zylker-store/report/All_Orders/fields"
    )
    assert "Status" in {f["link_name"] for f in body["fields"]}


async def test_failed_job(emu: EmulatorHandle):
    emu.emulator.faults.fail_next_jobs("creator.read")
    reply = await create(emu, {})
    emu.advance(60)
    _, body, _ = await emu.call("GET", f"{BASE}/{reply['details']['id']}")
    assert body["details"]["status"] == "Failed" and "result" not in body["details"]


async def finish(emu: EmulatorHandle, reply: dict) -> dict:
    emu.advance(60)
    _, body, _ = await emu.call("GET", f"{BASE}/{reply['details']['id']}")
    assert body["details"]["status"] == "Completed", body
    return body["details"]["result"]


async def test_max_records_takes_100000_to_200000_in_thousands(start_emulator):
    # Creator bulk API limitations page: default and minimum 100,000, maximum 200,000,
    # multiples of 1,000. Sizes are cheap: without criteria nothing is generated to count.
    # Many creates in one emulated minute: this is about max_records, not rate limits.
    config = EmulatorConfig(rate_limits=False).with_sizes(creator_Orders=450_000)
    emu = await start_emulator(config)
    for bad in (50, 99_000, 150_500, 201_000, 0, "100000", True, None):
        status, reply, _ = await emu.call("POST", BASE, json={"query": {"max_records": bad}})
        assert (status, reply["code"]) == (400, 2899), bad
        assert "max_records" in reply["message"]
    for good in (100_000, 150_000, 200_000):
        result = await finish(emu, await create(emu, {"max_records": good}))
        assert result["count"] == good and result["record_cursor"]
    result = await finish(emu, await create(emu, {}))
    assert result["count"] == 100_000  # the default


async def test_max_records_may_not_change_across_cursors(start_emulator):
    emu = await start_emulator(EmulatorConfig().with_sizes(creator_Orders=250_000))
    first = await finish(emu, await create(emu, {"max_records": 120_000}))
    cursor = first["record_cursor"]
    for changed in (100_000, 200_000):
        query = {"record_cursor": cursor, "max_records": changed}
        status, reply, _ = await emu.call("POST", BASE, json={"query": query})
        assert (status, reply["code"]) == (400, 2899), changed
        assert "max_records" in reply["message"]
    # The cursor alone keeps the size the first batch fixed; repeating it is not a change.
    second = await finish(emu, await create(emu, {"record_cursor": cursor}))
    assert second["count"] == 120_000
    third = await finish(
        emu, await create(emu, {"record_cursor": second["record_cursor"], "max_records": 120_000})
    )
    assert third["count"] == 10_000 and "record_cursor" not in third


async def test_later_batches_inherit_fields_and_criteria(start_emulator):
    emu = await start_emulator(EmulatorConfig(creator_max_batch=100, creator_small_batches=True))
    query = {"max_records": 40, "fields": ["Status"], "criteria": 'Status != "Cancelled"'}
    first = await finish(emu, await create(emu, query))
    status, reply, _ = await emu.call(
        "POST",
        BASE,
        json={"query": {"record_cursor": first["record_cursor"], "fields": ["Amount"]}},
    )
    assert (status, reply["code"]) == (400, 2899)
    second = await finish(emu, await create(emu, {"record_cursor": first["record_cursor"]}))
    _, data, _ = await emu.call("GET", second["download_url"])
    rows = rows_of(data)
    assert list(rows[0]) == ["ID", "Status"] and len(rows) == 40
    assert all(r["Status"] != "Cancelled" for r in rows)
    truth = emu.emulator.ground_truth.creator_report(
        "All_Orders", 'Status != "Cancelled"', ["Status"], batch=2, max_records=40
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read(archive.namelist()[0]) == truth
    # A cursor belongs to its report.
    other = BASE.replace("All_Orders", "All_Customers")
    status, reply, _ = await emu.call(
        "POST", other, json={"query": {"record_cursor": second["record_cursor"]}}
    )
    assert (status, reply["code"]) == (400, 2899)


async def test_modified_time_compares_as_a_date_time_not_as_text(emu: EmulatorHandle):
    # '05-Jan-2023 …' sorts after '10-Jan-2023 …' as text but is earlier in time.
    bound = "05-Jan-2023 12:00:00"
    reply = await create(emu, {"criteria": f"Modified_Time >= '{bound}' && Quantity > 0"})
    _, data, _ = await emu.call("GET", (await finish(emu, reply))["download_url"])
    got = {r["ID"] for r in rows_of(data)}
    stored = emu.emulator.rows("creator", "Orders")
    after = datetime.strptime(bound, "%d-%b-%Y %H:%M:%S")
    expected = {
        str(r["ID"])
        for r in stored
        if datetime.strptime(str(r["Modified_Time"]), "%d-%b-%Y %H:%M:%S") >= after
    }
    as_text = {str(r["ID"]) for r in stored if str(r["Modified_Time"]) >= bound}
    assert got == expected and 0 < len(got) < len(stored)
    assert got != as_text
    got, reply, _ = await emu.call(
        "POST", BASE, json={"query": {"criteria": "Modified_Time >= 'yesterday'"}}
    )
    assert (got, reply["code"]) == (400, 2899)


async def test_touch_stamps_creator_records_in_creators_format(emu: EmulatorHandle):
    before = {str(r["ID"]): r for r in emu.emulator.rows("creator", "Orders")}
    touched = emu.emulator.touch("creator", "All_Orders", changed=3, added=2, at=1_800_000_000)
    assert len(touched) == 5 and len(set(touched) - set(before)) == 2
    after = {str(r["ID"]): r for r in emu.emulator.rows("creator", "Orders")}
    assert {after[i]["Modified_Time"] for i in touched} == {"15-Jan-2027 08:00:00"}
    untouched = set(before) - set(touched)
    assert all(before[i] == after[i] for i in untouched)

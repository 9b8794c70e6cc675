"""Creator bulk read v2.1 over raw HTTP: seed 004's replies, criteria, cursor batches."""

from __future__ import annotations

import csv
import io
import zipfile

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
    emu = await start_emulator(EmulatorConfig(creator_max_batch=100))
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

"""CRM bulk write over raw HTTP: upload a ZIP, create the job, poll, download per-row results."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile

import aiohttp

from .conftest import EmulatorHandle


def zipped_csv(text: str, name: str = "Leads.csv") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


async def upload(emu: EmulatorHandle, content: bytes, **headers: str) -> tuple[int, dict]:
    form = aiohttp.FormData()
    form.add_field("file", content, filename="upload.zip", content_type="application/zip")
    base = {"feature": "bulk-write", "X-CRM-ORG": emu.emulator.crm.zgid}
    status, reply, _ = await emu.call(
        "POST", "/crm/v8/upload", data=form, headers=await emu.headers(**{**base, **headers})
    )
    return status, reply


async def run_write(emu: EmulatorHandle, csv_text: str, operation: str, **resource) -> dict:
    status, reply = await upload(emu, zipped_csv(csv_text))
    assert status == 200 and reply["code"] == "FILE_UPLOAD_SUCCESS", reply
    file_id = reply["details"]["file_id"]
    status, reply, _ = await emu.call(
        "POST",
        "/crm/bulk/v8/write",
        json={
            "operation": operation,
            "character_encoding": "UTF-8",
            "resource": [
                {"type": "data", "module": {"api_name": "Leads"}, "file_id": file_id, **resource}
            ],
        },
    )
    assert status == 201 and reply["status"] == "success", reply
    job_id = reply["details"]["id"]
    _, body, _ = await emu.call("GET", f"/crm/bulk/v8/write/{job_id}")
    assert body["status"] == "ADDED" and "result" not in body
    emu.advance(60)
    _, body, _ = await emu.call("GET", f"/crm/bulk/v8/write/{job_id}")
    assert body["status"] == "COMPLETED"
    return body


async def result_rows(emu: EmulatorHandle, body: dict) -> list[dict[str, str]]:
    url = body["result"]["download_url"]
    assert url.startswith(emu.base_url)  # absolute, fetched as is by the SDK
    async with emu.session.get(url, headers=await emu.headers()) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/zip"
        data = await response.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (name,) = archive.namelist()
        return list(csv.DictReader(io.StringIO(archive.read(name).decode())))


async def test_insert_stores_rows(emu: EmulatorHandle):
    body = await run_write(
        emu,
        "Last_Name,Company,Email\r\nNewton,Apple Co,n@x.com\r\n,NoName Inc,z@x.com\r\n",
        "insert",
        field_mappings=[
            {"api_name": "Last_Name", "index": 0},
            {"api_name": "Company", "index": 1},
            {"api_name": "Email", "index": 2},
        ],
    )
    file_info = body["resource"][0]["file"]
    assert file_info["added_count"] == 1 and file_info["skipped_count"] == 1
    assert file_info["total_count"] == 2
    rows = await result_rows(emu, body)
    assert [r["STATUS"] for r in rows] == ["ADDED", "SKIPPED"]
    assert "MANDATORY_NOT_FOUND" in rows[1]["ERRORS"]
    stored = emu.emulator.rows("crm", "Leads")
    assert len(stored) == 121
    assert stored[-1]["id"] == rows[0]["RECORD_ID"]
    assert (stored[-1]["Last_Name"], stored[-1]["Company"]) == ("Newton", "Apple Co")
    # Inserted rows are exported like generated ones.
    exported = emu.emulator.ground_truth.crm_bulk_read("Leads", ["Last_Name"])
    assert exported.endswith(f"{rows[0]['RECORD_ID']},Newton\r\n".encode())


async def test_update_and_upsert(emu: EmulatorHandle):
    first = emu.emulator.rows("crm", "Leads")[0]
    ghost = emu.emulator.crm.ids.record(3, 10**9)  # a well-formed id of no record
    body = await run_write(
        emu, f"id,Company\r\n{first['id']},Renamed Ltd\r\n{ghost},Ghost\r\n", "update"
    )
    rows = await result_rows(emu, body)
    assert [r["STATUS"] for r in rows] == ["UPDATED", "SKIPPED"]
    assert emu.emulator.rows("crm", "Leads")[0]["Company"] == "Renamed Ltd"
    email = first["Email"]
    body = await run_write(
        emu,
        f"Email,Last_Name\r\n{email},Upserted\r\nnew@x.com,Fresh\r\n",
        "upsert",
        find_by="Email",
    )
    assert [r["STATUS"] for r in await result_rows(emu, body)] == ["UPDATED", "ADDED"]
    leads = emu.emulator.rows("crm", "Leads")
    assert leads[0]["Last_Name"] == "Upserted" and leads[-1]["Email"] == "new@x.com"


async def test_upload_and_create_errors(emu: EmulatorHandle):
    status, reply = await upload(emu, zipped_csv("a\r\n1\r\n"), feature="nope")
    assert (status, reply["code"]) == (400, "INVALID_DATA")
    status, reply = await upload(emu, zipped_csv("a\r\n1\r\n"), **{"X-CRM-ORG": "1"})
    assert (status, reply["code"]) == (400, "INVALID_DATA")
    status, reply = await upload(emu, b"not a zip")
    assert (status, reply["code"]) == (400, "INVALID_DATA")
    status, reply, _ = await emu.call(
        "POST",
        "/crm/bulk/v8/write",
        json={
            "operation": "insert",
            "resource": [{"type": "data", "module": {"api_name": "Leads"}, "file_id": "999"}],
        },
    )
    assert (status, reply["details"]["api_name"]) == (400, "file_id")
    status, reply, _ = await emu.call("GET", "/crm/bulk/v8/write/999")
    assert (status, reply["code"]) == (404, "RESOURCE_NOT_FOUND")


async def test_write_callback_and_failed_job(emu: EmulatorHandle):
    from .test_bigin import callback_receiver

    async with callback_receiver() as (url, received, arrived):
        status, reply = await upload(emu, zipped_csv("Last_Name\r\nOne\r\n"))
        file_id = reply["details"]["file_id"]
        body = {
            "operation": "insert",
            "callback": {"url": url, "method": "post"},
            "resource": [{"type": "data", "module": {"api_name": "Leads"}, "file_id": file_id}],
        }
        status, reply, _ = await emu.call("POST", "/crm/bulk/v8/write", json=body)
        emu.advance(60)
        await asyncio.wait_for(arrived.wait(), 5)
        assert received[0]["state"] == "COMPLETED"
        assert received[0]["result"]["download_url"].startswith(emu.base_url)
    emu.emulator.faults.fail_next_jobs("crm.write")
    status, reply, _ = await emu.call(
        "POST", "/crm/bulk/v8/write", json={"operation": "insert", "resource": body["resource"]}
    )
    assert status == 201
    job_id = reply["details"]["id"]
    emu.advance(60)
    _, status_body, _ = await emu.call("GET", f"/crm/bulk/v8/write/{job_id}")
    assert status_body["status"] == "FAILED" and "result" not in status_body
    assert len(emu.emulator.rows("crm", "Leads")) == 121  # only the first job's row

"""Zoho limits the emulator enforces that no other test reached, each driven over raw HTTP:
Creator's create rate limit, CRM bulk write's 25,000 rows and 25 MB a file, ICS batches of
Events, 15 live access tokens per refresh token, and Creator results kept a day. Each test
also shows the request just under the limit accepted. ManualClock throughout: no sleeps."""

from __future__ import annotations

import csv
import io
import zipfile

import aiohttp

from zsync.emulator import EmulatorConfig
from zsync.emulator.crm.models import MAX_WRITE_BYTES, MAX_WRITE_ROWS
from zsync.emulator.errors import CREATOR_ERRORS, CRM_ERRORS

from .conftest import EmulatorHandle, Starter

CREATOR_READ = "/creator/v2.1/bulk/jason18/zylker-store/report/All_Orders/read"


def zipped(text: str, name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


def unzipped(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (name,) = archive.namelist()
        return archive.read(name)


async def creator_create(emu: EmulatorHandle) -> tuple[int, dict]:
    status, reply, _ = await emu.call("POST", CREATOR_READ, json={"query": {}})
    return status, reply


# -- 1. Creator bulk read: 5 creates a minute per user (15 per organisation) --------------------
async def test_creator_create_rate_limit_2955_and_window_reopens(emu: EmulatorHandle):
    # limits.py _CREATES_CREATOR: Limit(5, 60) per user, Limit(15, 60) per organisation. The
    # emulator has one user, so the per-user window is always the one met: the 15 per
    # organisation would need users the emulator does not model.
    for _ in range(5):  # just under: the fifth create in the minute is accepted
        status, reply = await creator_create(emu)
        assert (status, reply["code"]) == (200, 3000), reply
    status, reply, headers = await emu.call("POST", CREATOR_READ, json={"query": {}})
    assert status == 429 == CREATOR_ERRORS[2955][0]
    assert reply == {"code": 2955, "message": CREATOR_ERRORS[2955][1]}
    assert reply["message"] == "You have reached the API call limit. Please try again later."
    assert "Retry-After" not in headers  # none documented
    # Still inside the sliding minute: refused, and a refusal does not count.
    emu.advance(59.5)
    status, reply = await creator_create(emu)
    assert (status, reply["code"]) == (429, 2955)
    assert emu.emulator.creates("creator.read") == 5
    assert [kind for kind, _ in emu.emulator.limits.refused] == ["creator.create"] * 2
    # The minute has passed: five more creates are accepted, the sixth refused again.
    emu.advance(0.5)
    for _ in range(5):
        status, reply = await creator_create(emu)
        assert (status, reply["code"]) == (200, 3000), reply
    status, reply = await creator_create(emu)
    assert (status, reply["code"]) == (429, 2955)
    assert emu.emulator.creates("creator.read") == 10


# -- 2. CRM bulk write: at most 25,000 records a file -------------------------------------------
async def crm_upload(emu: EmulatorHandle, rows: int) -> str:
    text = "Last_Name\r\n" + "x\r\n" * rows  # one short column: ~75 kB, a few kB zipped
    status, reply = await crm_upload_text(emu, text)
    assert (status, reply["code"]) == (200, "FILE_UPLOAD_SUCCESS"), reply
    return str(reply["details"]["file_id"])


async def crm_upload_text(emu: EmulatorHandle, text: str) -> tuple[int, dict]:
    form = aiohttp.FormData()
    form.add_field(
        "file", zipped(text, "Leads.csv"), filename="upload.zip", content_type="application/zip"
    )
    headers = await emu.headers(feature="bulk-write", **{"X-CRM-ORG": emu.emulator.crm.zgid})
    status, reply, _ = await emu.call("POST", "/crm/v8/upload", data=form, headers=headers)
    return status, reply


async def crm_write(emu: EmulatorHandle, file_id: str) -> tuple[int, dict]:
    body = {
        "operation": "insert",
        "character_encoding": "UTF-8",
        "resource": [{"type": "data", "module": {"api_name": "Leads"}, "file_id": file_id}],
    }
    status, reply, _ = await emu.call("POST", "/crm/bulk/v8/write", json=body)
    return status, reply


async def test_crm_bulk_write_refuses_a_file_over_25000_rows(emu: EmulatorHandle):
    assert MAX_WRITE_ROWS == 25_000
    leads_before = len(emu.emulator.rows("crm", "Leads"))
    # Over the cap: the upload is taken, the job create is refused (no job is made).
    too_many = await crm_upload(emu, MAX_WRITE_ROWS + 1)
    status, reply = await crm_write(emu, too_many)
    assert status == 400 == CRM_ERRORS["INVALID_DATA"][0]
    assert reply == {
        "code": "INVALID_DATA",
        "details": {"api_name": "file_id"},
        "message": "a file may hold at most 25000 records",
        "status": "error",
    }
    assert emu.emulator.creates("crm.write") == 0
    # Exactly 25,000: accepted, and every row is inserted.
    exactly = await crm_upload(emu, MAX_WRITE_ROWS)
    status, reply = await crm_write(emu, exactly)
    assert (status, reply["status"], reply["code"]) == (201, "success", "SUCCESS"), reply
    job_id = reply["details"]["id"]
    emu.advance(60)
    status, body, _ = await emu.call("GET", f"/crm/bulk/v8/write/{job_id}")
    assert (status, body["status"]) == (200, "COMPLETED")
    counts = body["resource"][0]["file"]
    assert counts["total_count"] == counts["added_count"] == 25_000
    assert counts["skipped_count"] == 0
    assert len(emu.emulator.rows("crm", "Leads")) == leads_before + 25_000


async def test_crm_bulk_write_refuses_a_csv_over_25_mb(emu: EmulatorHandle):
    assert MAX_WRITE_BYTES == 25 * 1024 * 1024
    # 25,000 records (the row cap) exactly filling the byte cap, then one byte more.
    header = "Last_Name\r\n"
    width, longer = divmod(MAX_WRITE_BYTES - len(header), MAX_WRITE_ROWS)
    rows = ["x" * (width - 2 + (n < longer)) + "\r\n" for n in range(MAX_WRITE_ROWS)]
    at_cap = header + "".join(rows)
    assert len(at_cap) == MAX_WRITE_BYTES
    status, reply = await crm_upload_text(emu, at_cap[:-2] + "x\r\n")
    assert status == 400 == CRM_ERRORS["FILE_SIZE_EXCEEDED"][0]
    assert (reply["code"], reply["message"]) == (
        "FILE_SIZE_EXCEEDED",
        CRM_ERRORS["FILE_SIZE_EXCEEDED"][1],
    )
    status, reply = await crm_upload_text(emu, at_cap)
    assert (status, reply["code"]) == (200, "FILE_UPLOAD_SUCCESS"), reply


# -- 3. ICS export of Events: batches of ics_batch_size ------------------------------------------
async def ics_read(emu: EmulatorHandle, prefix: str, module: object, **query: object) -> dict:
    body = {"query": {"module": module, **query}, "file_type": "ics"}
    status, reply, _ = await emu.call("POST", f"{prefix}/read", json=body)
    assert status == 201, reply
    job_id = reply["data"][0]["details"]["id"]
    emu.advance(60)
    _, status_body, _ = await emu.call("GET", f"{prefix}/read/{job_id}")
    (item,) = status_body["data"]
    assert (item["state"], item["file_type"]) == ("COMPLETED", "ics")
    _, data, _ = await emu.call("GET", f"{prefix}/read/{job_id}/result")
    item["events"] = unzipped(data).count(b"BEGIN:VEVENT")
    return item


async def test_ics_export_batches_events(start_emulator: Starter):
    # Seed 003: "You can export a maximum of 20,000 records from the Meetings module per batch."
    assert EmulatorConfig().ics_batch_size == 20_000
    batch = 7
    for product, prefix, module in (
        ("bigin", "/bigin/bulk/v2", "Events"),
        ("crm", "/crm/bulk/v8", {"api_name": "Events"}),
    ):
        sizes = {f"{product}_Events": batch + 3}
        emu = await start_emulator(EmulatorConfig(ics_batch_size=batch).with_sizes(**sizes))
        first = await ics_read(emu, prefix, module)
        result = first["result"]
        assert result["per_page"] == batch and result["page"] == 1
        assert result["count"] == first["events"] == batch
        assert result["more_records"] is True and result["next_page_token"]
        # The next batch, by page_token: the remaining three, and nothing after them.
        rest = await ics_read(emu, prefix, module, page_token=result["next_page_token"])
        assert rest["result"]["count"] == rest["events"] == 3
        assert rest["result"]["more_records"] is False
        assert "next_page_token" not in rest["result"]
        # ... and by page number, the same.
        page_two = await ics_read(emu, prefix, module, page=2)
        assert (page_two["result"]["page"], page_two["result"]["count"]) == (2, 3)
        # Exactly one batch of Events: one file, no more records.
        sizes = {f"{product}_Events": batch}
        emu = await start_emulator(EmulatorConfig(ics_batch_size=batch).with_sizes(**sizes))
        only = await ics_read(emu, prefix, module)
        assert only["result"]["count"] == only["events"] == batch
        assert only["result"]["more_records"] is False
        assert "next_page_token" not in only["result"]


# -- 4. OAuth: 15 live access tokens per refresh token ------------------------------------------
async def org_with(emu: EmulatorHandle, token: str) -> tuple[int, dict]:
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    status, body, _ = await emu.call("GET", "/crm/v8/org", headers=headers)
    return status, body


async def test_sixteenth_access_token_retires_the_oldest(start_emulator: Starter):
    # The budget (10 tokens per 10 minutes) is another limit: off here.
    emu = await start_emulator(EmulatorConfig(token_budget=None))
    assert emu.emulator.config.live_tokens == 15
    tokens = [await emu.token(fresh=True) for _ in range(15)]
    # Just under: fifteen live tokens, the oldest and the newest both work.
    for token in (tokens[0], tokens[-1]):
        status, _ = await org_with(emu, token)
        assert status == 200
    tokens.append(await emu.token(fresh=True))  # the 16th
    status, reply = await org_with(emu, tokens[0])
    assert status == 401 == CRM_ERRORS["INVALID_TOKEN"][0]
    assert reply == {
        "code": "INVALID_TOKEN",
        "details": {},
        "message": "invalid oauth token",
        "status": "error",
    }
    for token in (tokens[1], tokens[-1]):  # the second oldest and the newest live on
        status, _ = await org_with(emu, token)
        assert status == 200
    # Each further token retires the next oldest.
    tokens.append(await emu.token(fresh=True))
    assert (await org_with(emu, tokens[1]))[0] == 401
    assert (await org_with(emu, tokens[2]))[0] == 200


# -- 5. Creator results kept 24 hours ------------------------------------------------------------
async def test_creator_result_expires_after_a_day(emu: EmulatorHandle):
    status, reply = await creator_create(emu)
    assert status == 200
    job_id = reply["details"]["id"]
    emu.advance(60)
    _, body, _ = await emu.call("GET", f"{CREATOR_READ}/{job_id}")
    assert body["details"]["status"] == "Completed"
    download_url = body["details"]["result"]["download_url"]
    paths = (f"{CREATOR_READ}/{job_id}/result", download_url, download_url + "/")
    finished = emu.emulator.jobs.get(job_id, "creator.read").timeline.finished_at
    # Just before a day has passed since the job finished: every result path downloads.
    emu.advance(finished + 86_400 - 1 - emu.clock.now())
    await emu.token(fresh=True)  # the first token lived an hour
    for path in paths:
        status, data, headers = await emu.call("GET", path)
        assert (status, headers["Content-Type"]) == (200, "application/zip"), data
        rows = list(csv.DictReader(io.StringIO(unzipped(data).decode())))
        assert len(rows) == 250  # every demo order
    # Exactly a day is still inside ("now > finished + 86,400" expires); a second later, gone.
    emu.advance(1)
    status, _, _ = await emu.call("GET", paths[0])
    assert status == 200
    emu.advance(1)
    for path in paths:
        status, reply, _ = await emu.call("GET", path)
        assert status == 404 == CREATOR_ERRORS[2894][0]
        assert reply == {"code": 2894, "message": "The result of this job has expired."}
